% rebase('base.tpl')
<form method="get" action="/reports/data" class="filter card">
  <label for="f-list">{{_("List")}}</label>
  <select id="f-list" name="list" data-autosubmit>
  % for value, text in lists:
    <option value="{{value}}"{{!" selected" if value == list_type else ""}}>{{text}}</option>
  % end
  </select>
  <noscript><button type="submit">{{_("Show")}}</button></noscript>
</form>
<form method="post" action="/reports/data" class="split" data-report-form>
  {{!form.token()}}
  <input type="hidden" name="list" value="{{list_type}}">
  % include('reports_items.tpl', title=dict(lists)[list_type])
  <section class="detail">
    {{!form.general_error()}}
    {{!form.input("start", _("Start date"), type="date", max=today, required=True)}}
    {{!form.input("end", _("End date"), type="date", max=today, required=True)}}
    % if has_costs:
    {{!form.switch("costs", _("Include costs"), False, hint=_("One more file per energy, in {currency}.").format(currency=currency))}}
    % else:
    {{!form.switch("costs", _("Include costs"), False, hint=_("No tariff is configured: there are no costs to include."))}}
    % end
    {{!form.select("resolution", _("Resolution"), resolutions, hint=keep)}}
    <div class="actions"><button type="submit" class="primary">{{_("Download")}}</button></div>
    <p class="hint">{{_("The measures are recorded every {minutes} minutes.").format(minutes=sample_rate)}}
      {{_("Values are in Wh for electricity and in dm³ for gas and water.")}}</p>
    <p class="hint">{{_("The files hold only the data saved in the database: while a device is in communication error, or the web server is not running, its consumption is missing.")}}</p>
  </section>
</form>
