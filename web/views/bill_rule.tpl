% rebase('base.tpl')
<form method="post" action="{{action}}" class="card narrow" autocomplete="off">
  {{!form.token()}}
  {{!form.general_error()}}
  % if has_tariffs:
  {{!form.select("tariff", _("Tariff"), options)}}
  % else:
  <p class="hint">{{_("Add a tariff first: a rule gives one of the tariffs.")}}</p>
  % end
  % if default:
  <p class="hint">{{_("The DEFAULT rule holds whenever no rule above it does: only its tariff can be chosen.")}}</p>
  % else:
  <fieldset class="field">
    <legend>{{_("Validity")}}</legend>
    <p class="hint">{{_("Both empty: always. From only: that day. From and to: the period, both days included.")}}</p>
    <div class="price-row">
      {{!form.input("date_from", _("From"), type="date")}}
      {{!form.input("date_to", _("To"), type="date")}}
    </div>
    {{!form.switch("repeat", _("Repeat every year"), False, hint=_("The same days and months every year, such as Christmas or a period across New Year."))}}
  </fieldset>
  <fieldset class="field">
    <legend>{{_("Time frame")}}</legend>
    <p class="hint">{{_("Both minutes included: 00:00 to 18:59, then 19:00 to 23:59. A frame from 22:00 to 05:59 crosses midnight; its hours after midnight belong to the day it began.")}}</p>
    <div class="price-row">
      {{!form.input("time_from", _("From"), type="time")}}
      {{!form.input("time_to", _("To"), type="time")}}
    </div>
  </fieldset>
  {{!form.checks("weekdays", _("Days of the week"), days, [])}}
  % end
  <div class="actions">
    % if has_tariffs:
    <button type="submit" class="primary">{{_("Save")}}</button>
    % end
    <a class="button" href="{{back}}">{{_("Cancel")}}</a>
  </div>
</form>
