% rebase('base.tpl')
<ul class="tabs">
% for href, text, here in tabs:
  <li><a href="{{href}}"{{!' aria-current="page"' if here else ""}}>{{text}}</a></li>
% end
</ul>
{{!form.general_error()}}
<div class="bill">
<section class="card">
  <h2>{{_("Currency")}}{{" · " + _("Gas conversion factor") if kind == "gas" else ""}}</h2>
  <form method="post" action="{{base}}/settings" autocomplete="off">
    {{!form.token()}}
    {{!form.input("currency", _("Currency (ISO 4217 code)"), values["currency"], required=True, maxlength=3, list="currencies", hint=_("Three letters, like EUR, USD or GBP."))}}
    <datalist id="currencies">
    % for code in codes:
      <option value="{{code}}">
    % end
    </datalist>
    % if kind == "gas":
    {{!form.input("gas_kwh_per_m3", _("Conversion factor (kWh/m3)"), values["gas_kwh_per_m3"], required=True, inputmode="decimal", hint=_("Given by your gas supplier: gas consumptions are also shown in equivalent kWh."))}}
    % end
    <div class="actions"><button type="submit" class="primary">{{_("Save")}}</button></div>
  </form>
</section>

<section class="card">
  <h2>{{_("Tariffs")}}</h2>
  % if tariffs:
  <div class="scroll"><table class="tariffs">
    <thead><tr><th>{{_("Name")}}</th><th>{{_("Prices")}}</th><th><span class="sr">{{_("Actions")}}</span></th></tr></thead>
    <tbody>
    % for t in tariffs:
      <tr>
        <td>{{!swatch(t.colour)}} {{t.name}}</td>
        <td>
        % for p in prices(t):
          <span class="price">{{p}}</span>
        % end
        </td>
        <td class="acts"><a class="button" href="{{base}}/tariffs/{{t.id}}">{{_("Edit")}}</a>
          <a class="button danger" href="{{base}}/tariffs/{{t.id}}/delete">{{_("Delete")}}</a></td>
      </tr>
    % end
    </tbody>
  </table></div>
  % else:
  <p class="hint">{{_("No tariff yet: no cost is computed for this energy.")}}</p>
  % end
  % if len(tariffs) < max_tariffs:
  <a class="button add" href="{{base}}/tariffs/new">{{_("Add a tariff")}}</a>
  % else:
  <p class="hint">{{_("At most {count} tariffs: delete one to add another.").format(count=max_tariffs)}}</p>
  % end
</section>

<section class="card">
  <h2>{{_("Cost rules")}}</h2>
  <p class="hint">{{_("Rules are checked from the top: the first one that holds at the start of a recording period gives its tariff. Put the exceptions first; the DEFAULT rule holds whenever no rule above it does.")}}</p>
  <div class="scroll"><table class="rules">
    <thead><tr><th>#</th><th>{{_("Tariff")}}</th><th>{{_("Validity")}}</th><th>{{_("Time frame")}}</th><th>{{_("Days")}}</th><th><span class="sr">{{_("Actions")}}</span></th></tr></thead>
    <tbody>
    % for n, r in enumerate(rules, 1):
      % t = by_id.get(r.tariff_id)
      <tr{{!' class="active"' if active is not None and r == active else ""}}>
        <td>{{"DEFAULT" if r.default else n}}</td>
        <td>
          % if t:
          {{!swatch(t.colour)}} {{t.name}}
          % else:
          <span class="hint">{{_("No tariff: no cost")}}</span>
          % end
          % if active is not None and r == active:
          <small class="badge now">{{_("Now")}}</small>
          % end
        </td>
        % if r.default:
        <td colspan="3" class="hint">{{_("Whenever no rule above holds")}}</td>
        <td class="acts"><a class="button" href="{{base}}/rules/default">{{_("Edit")}}</a></td>
        % else:
        <td>{{validity(r)}}</td>
        <td class="when">{{frame(r)}}</td>
        <td>{{days(r)}}</td>
        <td class="acts">
          <form method="post" action="{{base}}/rules/{{r.id}}/move" class="move">
            {{!form.token()}}
            <button type="submit" name="direction" value="up"{{!" disabled" if n == 1 else ""}}>{{_("Move up")}}</button>
            <button type="submit" name="direction" value="down"{{!" disabled" if n == len(rules) - 1 else ""}}>{{_("Move down")}}</button>
          </form>
          <a class="button" href="{{base}}/rules/{{r.id}}">{{_("Edit")}}</a>
          <a class="button danger" href="{{base}}/rules/{{r.id}}/delete">{{_("Delete")}}</a>
        </td>
        % end
      </tr>
    % end
    </tbody>
  </table></div>
  % if tariffs:
  <a class="button add" href="{{base}}/rules/new">{{_("Add a rule")}}</a>
  % else:
  <p class="hint">{{_("Add a tariff first: a rule gives one of the tariffs.")}}</p>
  % end
</section>
</div>
