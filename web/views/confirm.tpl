% rebase('base.tpl')
<form method="post" action="{{action}}" class="card">
  {{!form.token()}}
  % if get('detail'):
  <p>{{detail}}</p>
  % end
  <button type="submit" class="danger">{{button}}</button>
  <a class="button" href="{{back}}">{{_("Cancel")}}</a>
</form>
