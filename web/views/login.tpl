% rebase('base.tpl')
<form method="post" action="{{action}}" class="login card" autocomplete="off">
  {{!form.token()}}
  <input type="hidden" name="next" value="{{next}}">
  {{!form.general_error()}}
  % if stage == "pin":
  {{!form.input("pin", _("PIN"), type="password", inputmode="numeric", autofocus=True, required=True, maxlength=12)}}
  % else:
  <p>{{_("Hello {name}: confirm with your PUK.").format(name=pending)}}</p>
  {{!form.input("puk", _("PUK"), type="password", inputmode="numeric", autofocus=True, required=True, maxlength=24)}}
  % end
  <button type="submit" class="primary">{{_("OK")}}</button>
  % if stage == "puk":
  <a href="/login" class="button">{{_("Cancel")}}</a>
  % end
</form>
