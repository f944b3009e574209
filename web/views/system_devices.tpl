% rebase('base.tpl')
% gid = gateway.id
<div class="split">
  <section class="list" aria-label="{{_("Devices")}}">
    <p class="gw-head"><a href="/system/gateways/{{gid}}"><span class="addr">{{gateway.address}}</span> <span class="nm">{{gateway.name}}</span></a> {{!led(gw_state)}}</p>
    <a class="button add" href="/system/gateways/{{gid}}/devices/new">{{_("Add")}}</a>
    <ul class="items">
    % for d in devices:
      % st = dev_status.get(d.id, ("on" if d.enabled and gateway.enabled else "off", None))
      <li><a href="/system/devices/{{d.id}}"{{!' aria-current="page"' if current not in (None, "family", "new") and current.id == d.id else ""}}
             class="{{"" if d.enabled else "disabled"}}"><span class="addr">{{address_label(d)}}</span> <span class="nm">{{d.name}}</span>
          {{!breaker(st[1])}}{{!led(st[0])}}</a></li>
    % end
    % if not devices:
      <li class="hint">{{_("No device on this gateway yet.")}}</li>
    % end
    </ul>
  </section>
  <section class="detail" aria-label="{{_("Device settings")}}">
  % if current is None:
    <p class="hint">{{_("Choose a device to see its settings, or Add one.")}}</p>
  % elif current == "family":
    <h2>{{_("New device: choose its family")}}</h2>
    {{!form.general_error()}}
    <ul class="items families">
    % for key, label in families:
      <li><a href="/system/gateways/{{gid}}/devices/new?family={{key}}">{{label}}</a></li>
    % end
    </ul>
  % elif fam is None:
    <p class="error">{{_("This device's family is not in the catalogue of this version: it can only be deleted.")}}</p>
    <a class="button danger" href="/system/devices/{{current.id}}/delete">{{_("Delete")}}</a>
  % else:
    % new = current == "new"
    % v = stored
    % if new:
    <h2>{{_("New device")}}: {{family_label(fam.key)}}</h2>
    % else:
    <h2>{{current.name}} {{!breaker(dev_status.get(current.id, (None, None))[1])}}{{!led(dev_status.get(current.id, ("on" if current.enabled and gateway.enabled else "off",))[0])}}</h2>
    <p class="hint">{{family_label(fam.key)}} · {{_("ID {id}").format(id=current.id)}} · {{_("Remote ID {id}").format(id=10000 + current.id)}}</p>
    % end
    <form method="post" action="{{"/system/gateways/%d/devices/new" % gid if new else "/system/devices/%d" % current.id}}" autocomplete="off" class="device-form">
      {{!form.token()}}
      % if new:
      <input type="hidden" name="family" value="{{fam.key}}">
      % end
      {{!form.general_error()}}
      {{!form.select("model", _("Model"), models, v.get("model", ""), data_tags=model_tags)}}
      % if fam.addressing == REMOTE:
      <div class="field"><span class="label">{{_("Modbus address")}}</span> <span class="fixed">{{slave_unit}}</span>
        <p class="hint">{{_("Filled automatically: a slave web server answers at address 247.")}}</p></div>
      {{!form.input("remote_id", _("Remote ID"), v.get("remote_id", ""), maxlength=5, inputmode="numeric", required=True, hint=_("1XXXX: device XXXX, 2YYYY: load YYYY, 3ZZZZ: measure group ZZZZ of the slave; 29999 or \"all\": all its electrical loads."))}}
      <p><button type="button" class="fill-all" data-fill="f-remote_id" data-value="29999" hidden>{{_("All")}}</button></p>
      % elif fam.addressing == EMS:
      {{!form.input("address", _("Modbus address"), v.get("address", ""), required=True, maxlength=7, hint=_("1 to 247; in remote addressing \"module-interface\", like 2-1."))}}
      {{!form.input("interface", _("Interface address (remote addressing)"), v.get("interface", ""), type="number", min=1, max=247, hint=_("Only for an EMS system in remote addressing; otherwise leave empty."))}}
      % elif fam.addressing == PULSE:
      {{!form.input("address", _("Modbus address of the concentrator"), v.get("address", ""), type="number", min=1, max=247, required=True)}}
      {{!form.select("concentrator", _("Concentrator"), concentrators, v.get("concentrator", ""), hint=_("The pulse concentrator or energy counter with pulse input the counter is wired to."))}}
      {{!form.input("position", _("Position"), v.get("position", ""), type="number", min=1, max=7, required=True, hint=_("The input of the concentrator the pulse output is wired to."))}}
      % else:
      {{!form.input("address", _("Modbus address"), v.get("address", ""), type="number", min=1, max=247, required=True, hint=_("1 to 247, different for each device on the same RS485 bus."))}}
      % end
      % if fam.addressing == SIDE:
      {{!form.select("side", _("Side"), sides, v.get("side", ""), hint=_("Only for two-sided stations; leave empty otherwise."), data_when="two_sides")}}
      % end
      % if "phase" in fam.fields:
      {{!form.select("phase", _("Phase"), phases, v.get("phase", ""), hint=_("The phase the station is connected to: only for single-phase stations."), data_when="single_phase")}}
      % end
      % if "supply" in fam.fields:
      {{!form.select("supply", _("Supply"), supplies, v.get("supply", "") or "upstream", hint=_("Upstream: current from the top of the sensor or breaker (default); Downstream: from the bottom."))}}
      % end
      % if "generic" in fam.fields:
      <fieldset class="generic">
        <legend>{{_("Register of the positive active energy")}}</legend>
        <p class="hint">{{_("From the documentation of the meter, given by its manufacturer.")}}</p>
        {{!form.select("fn", _("Read function"), functions, v.get("fn", "") or 3)}}
        {{!form.input("register", _("Register (hex)"), v.get("register", ""), required=True, maxlength=6, placeholder="C652")}}
        {{!form.select("words", _("Words"), words, v.get("words", "") or 2)}}
        {{!form.input("multiplier", _("Multiplier"), v.get("multiplier", "") or "1", maxlength=20, inputmode="decimal", hint=_("Converts the value read into Wh: 1000 for a meter counting in kWh, 1 for Wh."))}}
        {{!form.select("encoding", _("Encoding"), encodings, v.get("encoding", "") or "U32")}}
        {{!form.select("word_order", _("Word order"), word_orders, v.get("word_order", "") or "high_first")}}
      </fieldset>
      % end
      {{!form.input("name", _("Name"), v.get("name", ""), maxlength=64, hint=_("Left empty: the address (address-position, address-side)."))}}
      % if fam.load:
      <div class="field"><span class="label">{{_("Load")}}</span> <span class="fixed">{{auto_load}}</span>
        <p class="hint">{{_("Assigned automatically.")}}</p></div>
      % else:
      {{!form.select("load", _("Load"), loads, v.get("load", ""))}}
      % end
      % if groups:
      {{!form.checks("groups", _("Measure groups (up to 5)"), groups, my_groups)}}
      % end
      % adv = any(k in errors for k in ("exclude_totals", "exclude_alerts")) or v.get("exclude_totals") == "on" or v.get("exclude_alerts") == "on"
      <details class="advanced"{{!" open" if adv else ""}}>
        <summary>{{_("Advanced")}}</summary>
        {{!form.switch("exclude_totals", _("Exclude from totals"), v.get("exclude_totals") == "on", hint=_("For a device whose consumption is already counted by a general meter: shown only in the consumption details."))}}
        % if fam.alerts:
        {{!form.switch("exclude_alerts", _("Exclude alerts"), v.get("exclude_alerts") == "on", hint=_("No alert report for the events of this device."))}}
        % end
      </details>
      <div class="actions">
        <button type="submit" class="primary">{{_("Save")}}</button>
        % if new:
        <a class="button" href="/system/gateways/{{gid}}/devices">{{_("Cancel")}}</a>
        % else:
        % did = current.id
        <button type="submit" formaction="/system/devices/{{did}}/test" formnovalidate>{{_("Test")}}</button>
        % if current.enabled:
        <button type="submit" name="on" value="off" class="onoff is-on" formaction="/system/devices/{{did}}/switch" formnovalidate title="{{_("Switch OFF")}}">{{_("ON")}}</button>
        % else:
        <button type="submit" name="on" value="on" class="onoff is-off" formaction="/system/devices/{{did}}/switch" formnovalidate title="{{_("Switch ON")}}">{{_("OFF")}}</button>
        % end
        <a class="button danger" href="/system/devices/{{did}}/delete">{{_("Delete")}}</a>
        % if other_side:
        <a class="button" href="{{other_side[1]}}">{{_("Add side {side}").format(side=other_side[0])}}</a>
        % end
        % end
      </div>
    </form>
  % end
  </section>
</div>
