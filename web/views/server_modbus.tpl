% rebase('base.tpl')
<form method="post" action="/server/modbus" class="card">
  {{!form.token()}}
  {{!form.general_error()}}
  {{!form.switch("modbus_tcp", _("Modbus TCP server"), current["modbus_tcp"], hint=_("ON: this box is also a Modbus/IP gateway for other web servers."))}}
  {{!form.select("parity", _("Parity"), [("none", _("None")), ("even", _("Even")), ("odd", _("Odd"))], current["parity"])}}
  {{!form.select("stopbits", _("Stop bits"), [(1, "1"), (2, "2")], current["stopbits"])}}
  {{!form.select("baudrate", _("Baud rate"), [(b, _("{n} bit/s").format(n=b)) for b in baudrates], current["baudrate"])}}
  {{!form.input("timeout_ms", _("RS485 timeout (ms)"), current["timeout_ms"], type="number", min=50, max=5000, required=True)}}
  {{!form.switch("frame_sync", _("Sync frame interval to gateways"), current["frame_sync"], hint=_("Recommended OFF with third-party gateways."))}}
  {{!form.input("frame_interval_ms", _("Frame interval (ms)"), current["frame_interval_ms"], type="number", min=0, max=1000, required=True, hint=_("Quiet time between a Modbus answer and the next request (default 50 ms)."))}}
  <p class="flash warn">{{_("The RS485 port restarts when the settings are saved.")}}</p>
  <div class="actions">
    <button type="submit" class="primary">{{_("Save")}}</button>
  </div>
</form>
