% include('panel_icons.tpl')
% def icon(kind, key, text):
<svg class="icon {{kind}} {{kind}}-{{key}}" role="img" aria-label="{{text}}"><title>{{text}}</title><use href="#i-{{key}}"></use></svg>
% end
% choices, which = report.device_list
<section class="devices list" aria-labelledby="cons-devices">
  <h2 id="cons-devices" class="sr">{{_("Devices")}}</h2>
  <form method="get" action="{{here}}" class="chooser">
    <input type="hidden" name="view" value="{{data['view']}}">
    <input type="hidden" name="date" value="{{data['date']}}">
    <label for="cons-list">{{_("Show")}}</label>
    <select id="cons-list" name="list" data-autosubmit>
    % for value, choice in choices:
      % if isinstance(choice, list):
      <optgroup label="{{value}}">
        % for v, text in choice:
        <option value="{{v}}"{{!" selected" if v == which else ""}}>{{text}}</option>
        % end
      </optgroup>
      % else:
      <option value="{{value}}"{{!" selected" if value == which else ""}}>{{choice}}</option>
      % end
    % end
    </select>
    <noscript><button type="submit">{{_("Show")}}</button></noscript>
  </form>
  % if not report.devices:
  <p class="hint">{{_("No device with a counter here.")}}</p>
  % end
  <ul class="devs">
  % for d in report.devices:
    <li data-dev="{{d['id']}}" data-status="{{d['status']}}"><a href="{{nav['devices'](d)}}"{{!' aria-current="page"' if report.current and report.current['id'] == d['id'] else ""}}><span class="addr" title="{{_("Address")}}">{{d['address']}}</span><span class="name">{{d['name']}}</span><span class="fn">
      % for f in d['functions']:
        % icon("fn", f, function_text(f))
      % end
      </span><span class="brk-slot">
      % if d['breaker']:
        % icon("brk", d['breaker'], breaker_text(d['breaker']))
      % end
      </span>
      % icon("st", d['status'], status_text(d['status']))
    </a></li>
  % end
  </ul>
</section>
