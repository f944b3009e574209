% rebase('base.tpl')
<form method="post" action="{{action}}" class="card narrow" autocomplete="off">
  {{!form.token()}}
  <p class="hint">{{kind_title}}</p>
  {{!form.general_error()}}
  {{!form.input("name", _("Name"), required=True, maxlength=64)}}
  {{!form.input("colour", _("Colour"), form.value("colour") or default_colour, type="color", hint=_("The colour of the tariff in histograms and charts."))}}
  <fieldset class="field prices">
    <legend>{{_("Prices per kWh") if unit == "kWh" else _("Prices per m3")}}</legend>
    <p class="hint">{{_("With one price, the date may stay empty: it is valid always. With several, each needs the date from which it is valid; a date is a local day, and a price holds until the next one.")}}</p>
    % for i in range(1, rows + 1):
    <div class="price-row">
      {{!form.input("price%d" % i, _("Price {n}").format(n=i), inputmode="decimal", placeholder="0.15000")}}
      {{!form.input("from%d" % i, _("Valid from"), type="date")}}
    </div>
    % end
  </fieldset>
  <div class="actions">
    <button type="submit" class="primary">{{_("Save")}}</button>
    <a class="button" href="{{back}}">{{_("Cancel")}}</a>
  </div>
</form>
