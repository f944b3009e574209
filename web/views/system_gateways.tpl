% rebase('base.tpl')
<div class="split">
  <section class="list" aria-label="{{_("Gateways")}}">
    <form method="get" action="/system/gateways" class="filter">
      <label for="f-show">{{_("Show")}}</label>
      <select id="f-show" name="show" data-autosubmit>
      % for value, text in filters:
        <option value="{{value}}"{{!" selected" if value == show else ""}}>{{text}}</option>
      % end
      </select>
      <noscript><button>{{_("OK")}}</button></noscript>
    </form>
    <a class="button add" href="/system/gateways/new">{{_("Add")}}</a>
    <ul class="items">
    % for gw in gateways:
      <li><a href="/system/gateways/{{gw.id}}{{query}}"{{!' aria-current="page"' if current not in (None, "new") and current.id == gw.id else ""}}
             class="{{"" if gw.enabled else "disabled"}}"><span class="addr">{{gw.address}}</span> <span class="nm">{{gw.name}}</span>
          {{!led(gw_status.get(gw.id, "on" if gw.enabled else "off"))}}</a>
      % if show != "gateways":
        <ul class="items sub">
        % for d in devices.get(gw.id, ()):
          <li><a href="/system/devices/{{d.id}}" class="{{"" if d.enabled else "disabled"}}"><span class="addr">{{address_label(d)}}</span> <span class="nm">{{d.name}}</span>
            {{!breaker(dev_status.get(d.id, (None, None))[1])}}{{!led(dev_status.get(d.id, ("on" if d.enabled and gw.enabled else "off",))[0])}}</a></li>
        % end
        </ul>
      % end
      </li>
    % end
    % if not gateways:
      <li class="hint">{{_("No gateway in this panel board.")}}</li>
    % end
    </ul>
  </section>
  <section class="detail" aria-label="{{_("Gateway settings")}}">
  % if current is None:
    <p class="hint">{{_("Choose a gateway to see its settings and devices, or Add one.")}}</p>
    <p class="hint">{{_("The Local gateway is the RS485 port of this box (127.0.0.1): it cannot be deleted, only switched OFF.")}}</p>
  % elif current == "new":
    <h2>{{_("New gateway")}}</h2>
    <form method="post" action="/system/gateways/new" autocomplete="off">
      {{!form.token()}}
      {{!form.general_error()}}
      {{!form.select("kind", _("Type"), kinds, "ip", hint=_("A slave web server gives the energies it records (master/slave function)."))}}
      {{!form.input("address", _("IP address"), "", required=True, maxlength=15, inputmode="decimal", placeholder="192.168.1.20")}}
      {{!form.input("port", _("TCP port"), 502, type="number", min=1, max=65535)}}
      {{!form.input("name", _("Name"), "", maxlength=64, hint=_("Left empty: the IP address."))}}
      {{!form.input("description", _("Description / location"), "", maxlength=200)}}
      {{!form.select("panel_board", _("Panel board"), board_options, "")}}
      <div class="actions">
        <button type="submit" class="primary">{{_("Save")}}</button>
        <a class="button" href="/system/gateways">{{_("Cancel")}}</a>
      </div>
    </form>
  % else:
    % gid = current.id
    <h2>{{current.name}} {{!led(gw_status.get(gid, "on" if current.enabled else "off"))}}</h2>
    <p class="hint">{{kind_label(current.kind)}}</p>
    <form method="post" action="/system/gateways/{{gid}}" autocomplete="off">
      {{!form.token()}}
      {{!form.general_error()}}
      % if current.kind == LOCAL:
      <div class="field"><span class="label">{{_("IP address")}}</span> <span class="fixed">{{current.address}}</span>
        <p class="hint">{{_("Fixed: the RS485 port of this box.")}}</p></div>
      % else:
      {{!form.input("address", _("IP address"), current.address, required=True, maxlength=15, inputmode="decimal")}}
      {{!form.input("port", _("TCP port"), current.port, type="number", min=1, max=65535)}}
      % end
      {{!form.input("name", _("Name"), current.name, maxlength=64, hint=_("Left empty: the IP address."))}}
      {{!form.input("description", _("Description / location"), current.description, maxlength=200)}}
      {{!form.select("panel_board", _("Panel board"), board_options, current.panel_board_id or "", hint=_("A gateway is in one panel board at most."))}}
      % if eq_allowed and len(eq_options) > 1:
      {{!form.select("eq", _("EQ device"), eq_options, eq_current, hint=_("Energy quality check (EN 50160), once a week: only devices with THD are offered."))}}
      % elif eq_allowed:
      <p class="hint">{{_("EQ device: no device with THD on this gateway.")}}</p>
      % end
      <div class="actions">
        <button type="submit" class="primary">{{_("Save")}}</button>
        <button type="submit" formaction="/system/gateways/{{gid}}/test" formnovalidate>{{_("Test")}}</button>
        % if current.enabled:
        <button type="submit" name="on" value="off" class="onoff is-on" formaction="/system/gateways/{{gid}}/switch" formnovalidate title="{{_("Switch OFF")}}">{{_("ON")}}</button>
        % else:
        <button type="submit" name="on" value="on" class="onoff is-off" formaction="/system/gateways/{{gid}}/switch" formnovalidate title="{{_("Switch ON")}}">{{_("OFF")}}</button>
        % end
        <a class="button" href="/system/gateways/{{gid}}/devices">{{_("Devices")}}</a>
        % if current.kind != LOCAL:
        <a class="button danger" href="/system/gateways/{{gid}}/delete">{{_("Delete")}}</a>
        % end
      </div>
    </form>
  % end
  </section>
</div>
