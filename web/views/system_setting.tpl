% rebase('base.tpl')
<form method="post" action="{{action}}" class="card narrow">
  {{!form.token()}}
  {{!form.general_error()}}
  {{!form.select(key, label, options, value, hint=hint)}}
  % if note:
  <p class="hint">{{note}}</p>
  % end
  <div class="actions">
    <button type="submit" class="primary">{{_("Save")}}</button>
    <a class="button" href="/system">{{_("Cancel")}}</a>
  </div>
</form>
