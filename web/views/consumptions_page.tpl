% rebase('base.tpl')
% heading = {"day": _("Hour"), "month": _("Day"), "year": _("Month"), "10years": _("Year")}[data['view']]
% def swatch(colour):
<svg class="sw" viewBox="0 0 10 10" aria-hidden="true" focusable="false"><rect width="10" height="10" rx="2" fill="{{colour}}"/></svg>
% end
<div id="cons" class="cons{{" large" if large else ""}}" data-json="{{data_json}}">
<nav aria-label="{{_("Consumptions")}}"><ul class="tabs cons-pages">
% for href, text in tabs:
  <li><a href="{{href}}"{{!' aria-current="page"' if href == here else ""}}>{{text}}</a></li>
% end
</ul></nav>
% if report.devices is not None:
<div class="panel">
  % include('consumptions_devices.tpl')
  <div class="values">
% end
<form method="get" action="{{here}}" class="cons-form">
  % for name, value in hidden.items():
  <input type="hidden" name="{{name}}" value="{{value}}">
  % end
  % for name, text, options, chosen in report.controls:
  <div class="pick"><label for="cons-{{name}}">{{text}}</label>
    <select id="cons-{{name}}" name="{{name}}" data-autosubmit>
    % for value, option in options:
      <option value="{{value}}"{{!" selected" if str(value) == str(chosen) else ""}}>{{option}}</option>
    % end
    </select></div>
  % end
  <div class="pick"><label for="cons-view">{{_("View")}}</label>
    <select id="cons-view" name="view" data-autosubmit>
    % for v, text, hint, href in views:
      <option value="{{v}}"{{!" selected" if v == data['view'] else ""}}>{{text}} ({{hint}})</option>
    % end
    </select></div>
  <div class="pick"><label for="cons-date">{{_("Date")}}</label>
    <input type="date" id="cons-date" name="date" value="{{data['date']}}" min="{{first_day}}" max="{{last_day}}" required></div>
  % for name, text, options, chosen in report.checks:
  <fieldset class="pick checks"><legend>{{text}}</legend>
    % for value, option, colour in options:
    <label class="check"><input type="checkbox" name="{{name}}" value="{{value}}"{{!" checked" if value in chosen else ""}} data-autosubmit>
    % swatch(colour)
    {{option}}</label>
    % end
    <input type="hidden" name="ticked" value="1">
  </fieldset>
  % end
  <button type="submit">{{_("Show")}}</button>
</form>

<nav class="period" aria-label="{{_("Period")}}">
  <a class="button prev" href="{{nav['prev']}}" rel="prev" title="{{previous_title}}">&#9664; {{_("Previous")}}</a>
  <h2>{{data['period']}}</h2>
  % if nav['next']:
  <a class="button next" href="{{nav['next']}}" rel="next">{{_("Next")}} &#9654;</a>
  % else:
  <a class="button next" href="{{nav['today']}}">{{_("Today")}}</a>
  % end
</nav>
<ul class="tabs views">
% for v, text, hint, href in views:
  <li><a href="{{href}}" title="{{hint}}"{{!' aria-current="true"' if v == data['view'] else ""}}>{{text}}</a></li>
% end
</ul>
<p class="cons-tools">
  <a href="{{nav['csv']}}" download="datalogger.csv" class="button">&#11015; datalogger.csv</a>
  <a href="{{nav['large']}}" class="button">{{_("Standard view") if large else _("Large view")}}</a>
</p>
% for label, text in report.summary:
<p class="summary-line"><span>{{label}}</span> <strong>{{text}}</strong></p>
% end
% if report.message:
<p class="hint cons-message">{{report.message}}</p>
% end
% if report.table:
<div class="table-wrap"><table class="cons-table overall">
  <thead><tr><th scope="col">{{_("Consumption")}}</th><th scope="col" class="num">{{data['period']}}</th>
    <th scope="col" class="num">{{data['previous_period']}}</th>
    % if report.table['equivalent']:
    <th scope="col" class="num">{{_("Gas in kWh equivalent")}}</th>
    % end
    % if report.table['cost']:
    <th scope="col" class="num">{{_("Cost")}}</th>
    % end
  </tr></thead>
  <tbody>
  % for row in report.table['rows']:
  <tr><th scope="row">
    % swatch(row['colour'])
    {{row['name']}}</th><td class="num">{{row['total']}}</td><td class="num">{{row['previous']}}</td>
    % if report.table['equivalent']:
    <td class="num">{{row['equivalent']}}</td>
    % end
    % if report.table['cost']:
    <td class="num">{{row['cost']}}</td>
    % end
  </tr>
  % end
  </tbody>
</table></div>
% end
% if report.counters:
<div class="table-wrap"><table class="cons-table counters">
  <thead><tr><th scope="col">{{_("Counter")}}</th><th scope="col" class="num">{{data['period']}}</th>
    <th scope="col" class="num">{{data['previous_period']}}</th><th scope="col" class="num">{{_("Difference")}}</th></tr></thead>
  <tbody>
  % for row in report.counters:
  <tr><th scope="row"><a href="{{nav['counter'](row['q'])}}"{{!' aria-current="true"' if row['current'] else ""}}>{{row['label']}}</a></th>
    <td class="num">{{row['total']}}</td><td class="num">{{row['previous']}}</td>
    <td class="num">{{row['difference']}} {{row['percent']}}</td></tr>
  % end
  </tbody>
</table></div>
% end

% for ch in data['charts']:
<section class="chart-box" id="chart-{{ch['id']}}" data-chart="{{ch['id']}}">
  <header class="chart-head">
    <h3>{{ch['title']}} <span class="unit">({{ch['unit']}})</span></h3>
    <button type="button" class="fs" data-fullscreen data-on="{{_("Full screen")}}" data-off="{{_("Leave full screen")}}" hidden>{{_("Full screen")}}</button>
  </header>
  % if ch['note']:
  <p class="hint">{{ch['note']}}</p>
  % end
  % if ch['combined']:
  <dl class="totals">
    <div><dt>{{_("Total")}}</dt><dd>{{ch['total_text']}}</dd></div>
    <div><dt>{{_("Previous period")}} ({{data['previous_period']}})</dt><dd>{{ch['previous_text']}}</dd></div>
    <div><dt>{{_("Difference")}}</dt><dd>{{ch['difference_text']}} {{ch['percent_text']}}</dd></div>
  </dl>
  % elif not ch.get('categories'):
  % for s in ch['series']:
  <dl class="totals">
    <div><dt>{{s['name']}}</dt><dd>{{s['total_text']}}</dd></div>
    <div><dt>{{_("Previous period")}} ({{data['previous_period']}})</dt><dd>{{s['previous_text']}}</dd></div>
    <div><dt>{{_("Difference")}}</dt><dd>{{s['difference_text']}} {{s['percent_text']}}</dd></div>
  </dl>
  % end
  % end
  % if ch['type'] == 'pie':
  <div class="pie-wrap"><canvas class="pie" data-pie width="260" height="260" role="img" aria-label="{{ch['title']}}"></canvas>
  <div class="table-wrap"><table class="cons-table legend">
    <thead><tr><th scope="col"></th><th scope="col" class="num">{{data['period']}}</th><th scope="col" class="num">%</th>
      <th scope="col" class="num">{{data['previous_period']}}</th><th scope="col" class="num">{{_("Difference")}}</th></tr></thead>
    <tbody>
    % for s in ch['series']:
    <tr data-slice="{{s['key']}}"><th scope="row">
      % swatch(s['colour'])
      {{s['name']}}</th><td class="num">{{s['total_text']}}</td><td class="num">{{s['share_text']}}</td>
      <td class="num">{{s['previous_text']}}</td><td class="num">{{s['difference_text']}} {{s['percent_text']}}</td></tr>
    % end
    </tbody>
  </table></div></div>
  % else:
  <div class="plot" data-plot role="img" aria-label="{{ch['title']}}"></div>
  <p class="readout" data-readout aria-live="polite"></p>
  % if len(ch['series']) > 1:
  <ul class="legend">
    % for s in ch['series']:
    <li>
    % swatch(s['colour'])
    {{s['name']}}</li>
    % end
  </ul>
  % end
  % cats = ch.get('categories')
  % stacked = ch['stacked'] and len(ch['series']) > 1
  <details class="numbers" open data-fold><summary>{{_("Table of values")}}</summary>
  <div class="table-wrap"><table class="cons-table data">
    <thead><tr><th scope="col">{{_("Device") if cats else heading}}</th>
      % for s in ch['series']:
      <th scope="col" class="num">{{s['name']}}</th>
      % end
      % if stacked:
      <th scope="col" class="num">{{_("Total")}}</th>
      % end
    </tr></thead>
    <tbody>
    % for i, row_label in enumerate(cats or data['labels']):
<tr><th>{{row_label}}</th>{{!cells([s['texts'][i] for s in ch['series']] + ([ch['texts'][i]] if stacked else []))}}</tr>
    % end
    </tbody>
    % if not cats:
    <tfoot>
      % for text, key in ((_("Total"), 'total_text'), (_("Previous period"), 'previous_text'), (_("Difference"), 'difference_text')):
<tr><th>{{text}}</th>{{!cells([s[key] for s in ch['series']] + ([ch[key]] if stacked else []))}}</tr>
      % end
    </tfoot>
    % end
  </table></div>
  </details>
  % end
</section>
% end
% if report.devices is not None:
  </div>
</div>
% end
</div>
