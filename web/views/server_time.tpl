% rebase('base.tpl')
<form method="post" action="/server/time" class="card">
  {{!form.token()}}
  {{!form.general_error()}}
  <p>{{_("Date and time of the box: {now}").format(now=now)}}</p>
  {{!zones(form)}}
  {{!form.input("datetime", _("Set date and time"), "", type="datetime-local", hint=_("Leave empty to keep the clock as it is. Not possible while the automatic time is ON.") if appliance else _("On this developer machine the computer's clock is not set from here."))}}
  {{!form.switch("ntp", _("Automatic time (NTP)"), current["ntp"], hint=_("The clock is set from an NTP server; set the right time zone too."))}}
  {{!form.input("ntp_server", _("NTP server"), current["ntp_server"], maxlength=253, hint=_("A host name like 0.europe.pool.ntp.org, or the IP address of a server in your network."))}}
  {{!form.switch("sync_devices", _("Sync device time"), current["sync_devices"], hint=_("Each hour, the clocks of the EMS CX3 interfaces are set when they are more than 10 minutes off."))}}
  <div class="actions">
    <button type="submit" class="primary">{{_("Save")}}</button>
  </div>
</form>
