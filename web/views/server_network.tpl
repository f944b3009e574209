% rebase('base.tpl')
<form method="post" action="/server/network" class="card" autocomplete="off">
  {{!form.token()}}
  {{!form.general_error()}}
  {{!form.input("address", _("IP address"), current["address"], required=True, maxlength=15, inputmode="decimal")}}
  {{!form.input("mask", _("Subnet mask"), current["mask"], required=True, maxlength=15, inputmode="decimal")}}
  {{!form.input("gateway", _("Default gateway"), current["gateway"], maxlength=15, inputmode="decimal", hint=_("Leave empty for none."))}}
  {{!form.input("dns", _("DNS servers"), current["dns"], maxlength=60, hint=_("Up to 3 addresses separated by commas; empty for none."))}}
  % if appliance:
  <p class="flash warn">{{_("After a new IP address is saved, the pages answer at that address only: give your computer an address in the same network to reach them (manual 7.7.2).")}}</p>
  % else:
  <p class="hint">{{_("On this developer machine the settings are only stored; the computer's own network is not changed.")}}</p>
  % end
  <div class="actions">
    <button type="submit" class="primary">{{_("Save")}}</button>
  </div>
</form>
