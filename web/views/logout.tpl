% rebase('base.tpl')
<form method="post" action="/logout" class="card">
  {{!form.token()}}
  <p>{{_("Logout: close the session; next time the PIN is enough on this browser.")}}</p>
  <p>{{_("Lock: close the session and forget this browser; next time PIN and PUK are asked.")}}</p>
  <button name="how" value="logout" class="primary">{{_("Logout")}}</button>
  <button name="how" value="lock">{{_("Lock")}}</button>
</form>
