% rebase('base.tpl')
% include('panel_icons.tpl')
% def icon(kind, key, text):
<svg class="icon {{kind}} {{kind}}-{{key}}" role="img" aria-label="{{text}}"><title>{{text}}</title><use href="#i-{{key}}"></use></svg>
% end
% if view.error:
<p class="flash error" role="alert">{{view.error}}</p>
% end
<div class="panel" id="panel" data-api="{{api}}" data-refresh="{{refresh_s}}" data-status="{{current['status'] if current else ''}}">
  <section class="devices list" aria-labelledby="panel-devices">
    <h2 id="panel-devices" class="sr">{{_("Devices")}}</h2>
    <form method="get" action="/panel" class="chooser">
      <label for="panel-list">{{_("Show")}}</label>
      <select id="panel-list" name="list" data-autosubmit>
      % for value, choice in view.choices():
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
    % if not listed:
    <p class="hint">{{_("No device here. Devices are added in System configuration.")}}</p>
    % end
    <ul class="devs">
    % for d in listed:
      <li data-dev="{{d['id']}}" data-status="{{d['status']}}">
        <a href="{{link(d)}}"{{!' aria-current="page"' if current and current['id'] == d['id'] else ""}}>
          <span class="addr" title="{{_("Address")}}">{{d['address']}}</span>
          <span class="name">{{d['name']}}</span>
          <span class="fn">
          % for f in d['functions']:
            % icon("fn", f, function_text(f))
          % end
          </span>
          <span class="brk-slot">
          % if d['breaker']:
            % icon("brk", d['breaker'], breaker_text(d['breaker']))
          % end
          </span>
          % icon("st", d['status'], status_text(d['status']))
        </a>
      </li>
    % end
    </ul>
  </section>

  <section class="values detail" aria-live="off">
  % if missing:
    <p class="hint">{{_("There is no device with this ID.")}}</p>
  % elif current is None:
    <p class="hint">{{_("Choose a device to see its measures.")}}</p>
  % else:
    <header class="dev-head">
      <h2>{{current['name']}}</h2>
      <p class="dev-info">
        <span>{{_("Address")}} {{current['address']}}</span>
        % if current['model'] and current['model'].replace(" ", "").isdigit():
        <span>{{_("Catalogue number")}} {{current['model']}}</span>
        % end
        <span class="dev-status">
          % icon("st", current['status'], status_text(current['status']))
          <span data-status-text>{{status_text(current['status'])}}</span>
        </span>
        <span class="read-at">{{_("Last reading")}} <time data-read-at>{{detail['read_at_text'] or "\u2014"}}</time></span>
        <a href="{{here}}" class="refresh">{{_("Refresh")}}</a>
      </p>
    </header>
    <p class="hint dev-message" data-message{{!"" if detail['message'] else " hidden"}}>{{detail['message']}}</p>
    % if len(groups) > 1:
    <nav aria-label="{{_("Measures")}}"><ul class="tabs">
      % for g in groups:
      <li><a href="#g-{{g['key']}}">{{g['title']}}</a></li>
      % end
    </ul></nav>
    % end
    <div class="groups{{" stale" if current['status'] == "error" else ""}}" data-values>
    % for g in groups:
      <section class="group" id="g-{{g['key']}}">
        <h3>{{g['title']}}</h3>
        % for tb in g['tables']:
        <div class="table-wrap">
        <table class="{{"matrix" if tb['columns'] else "pairs"}}{{" compact" if tb['compact'] else ""}}">
          % if tb['columns']:
          <thead><tr><th scope="col">{{tb['corner']}}</th>
            % for col in tb['columns']:
            <th scope="col" class="num">{{col}}</th>
            % end
          </tr></thead>
          % end
          <tbody>
          % for row_label, cells in tb['rows']:
          <tr><th scope="row">{{row_label}}</th>
            % for cell in cells:
            % if cell:
            <td class="num" data-q="{{cell['q']}}"{{!' data-state="%s"' % cell['state'] if cell['state'] else ""}} title="{{cell['title']}}">{{cell['text']}}</td>
            % else:
            <td></td>
            % end
            % end
          </tr>
          % end
          </tbody>
        </table>
        </div>
        % end
      </section>
    % end
    </div>
  % end
  </section>
</div>
