% rebase('base.tpl')
<form method="post" action="{{action}}" class="card">
  {{!form.token()}}
  <input type="hidden" name="confirmed" value="1">
  % for name, value in hidden:
  <input type="hidden" name="{{name}}" value="{{value}}">
  % end
  <table class="facts">
    <thead><tr><th></th><th>{{_("Now")}}</th><th>{{_("New")}}</th></tr></thead>
    <tbody>
    % for label, old, new in rows:
      <tr><th scope="row">{{label}}</th><td>{{old}}</td>
      % if str(new) != str(old):
        <td><strong>{{new}}</strong></td>
      % else:
        <td>{{new}}</td>
      % end
      </tr>
    % end
    </tbody>
  </table>
  % for note in notes:
  <p class="flash warn">{{note}}</p>
  % end
  <div class="actions">
    <button type="submit" class="primary">{{_("Save")}}</button>
    <a class="button" href="{{back}}">{{_("Cancel")}}</a>
  </div>
</form>
