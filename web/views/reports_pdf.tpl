% rebase('base.tpl')
<form method="get" action="/reports/pdf" class="filter card">
  <label for="f-filter">{{_("Devices")}}</label>
  <select id="f-filter" name="filter" data-autosubmit>
  % for value, choice in filters:
    % if isinstance(choice, list):
      % if choice:
    <optgroup label="{{value}}">
        % for v, text in choice:
      <option value="{{v}}"{{!" selected" if v == which else ""}}>{{text}}</option>
        % end
    </optgroup>
      % end
    % else:
    <option value="{{value}}"{{!" selected" if value == which else ""}}>{{choice}}</option>
    % end
  % end
  </select>
  <noscript><button type="submit">{{_("Show")}}</button></noscript>
</form>
<form method="post" action="/reports/pdf" class="split" data-report-form>
  {{!form.token()}}
  <input type="hidden" name="filter" value="{{which}}">
  % include('reports_items.tpl', title=_("Devices"))
  <section class="detail">
    {{!form.general_error()}}
    {{!form.select("type", _("Report"), types, hint=_("The Summary report covers the whole installation: it needs no device. The Detailed report shows the devices chosen."))}}
    {{!form.select("period", _("Period"), periods)}}
    {{!form.select("month", _("Month"), months)}}
    {{!form.select("year", _("Year"), years)}}
    % if has_costs:
    {{!form.switch("costs", _("Include costs"), False, hint=_("In {currency}.").format(currency=currency))}}
    % else:
    {{!form.switch("costs", _("Include costs"), False, hint=_("No tariff is configured: there are no costs to include."))}}
    % end
    <div class="actions"><button type="submit" class="primary">{{_("Download")}}</button></div>
    <p class="hint">{{_("The files hold only the data saved in the database: while a device is in communication error, or the web server is not running, its consumption is missing.")}}</p>
  </section>
</form>
