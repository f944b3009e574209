% rebase('base.tpl')
<ul class="tabs">
% for href, text, here in tabs:
  <li><a href="{{href}}"{{!' aria-current="page"' if here else ""}}>{{text}}</a></li>
% end
</ul>
<div class="split">
  <section class="list" aria-label="{{what}}">
    <a class="button add" href="{{base}}/new">{{_("Add")}}</a>
    <ul class="items">
    % for row in rows:
      <li><a href="{{base}}/{{row.id}}"{{!' aria-current="page"' if current not in (None, "new") and current.id == row.id else ""}}
             class="{{"" if row.enabled else "disabled"}}">
        % if remote:
        <span class="addr">{{remote * 10000 + row.id}}</span>
        % end
        <span class="nm">{{label(row)}}</span>
        % if not row.enabled:
        <small class="badge">{{_("Disabled")}}</small>
        % end
      </a></li>
    % end
    % if not rows:
      <li class="hint">{{_("None yet.")}}</li>
    % end
    </ul>
  </section>
  <section class="detail">
  % if current is None:
    <p class="hint">{{intro}}</p>
    <p class="hint">{{_("Choose one to edit, or Add one.")}}</p>
  % else:
    % new = current == "new"
    % if new:
    <h2>{{new_title}}</h2>
    % else:
    <h2>{{label(current)}}
      % if not current.enabled:
      <small class="badge">{{_("Disabled")}}</small>
      % end
    </h2>
    % if remote:
    <p class="hint">{{_("Remote ID {id}").format(id=remote * 10000 + current.id)}}</p>
    % end
    % end
    <form method="post" action="{{base + "/new" if new else "%s/%d" % (base, current.id)}}" autocomplete="off">
      {{!form.token()}}
      {{!form.general_error()}}
      % if new or renamable(current):
      {{!form.input("name", _("Name"), "" if new else current.name, required=True, maxlength=64)}}
      % else:
      <div class="field"><span class="label">{{_("Name")}}</span> <span class="fixed">{{label(current)}}</span>
        <p class="hint">{{_("A built-in load cannot be renamed, only disabled.")}}</p></div>
      % end
      % if described:
      {{!form.input("description", _("Description / location"), "" if new else current.description, maxlength=200)}}
      % end
      <div class="actions">
        % if new or renamable(current) or described:
        <button type="submit" class="primary">{{_("Save")}}</button>
        % end
        % if new:
        <a class="button" href="{{base}}">{{_("Cancel")}}</a>
        % else:
        % if not current.enabled:
        <button type="submit" name="on" value="on" formaction="{{base}}/{{current.id}}/switch" formnovalidate>{{_("Enable")}}</button>
        % end
        <a class="button danger" href="{{base}}/{{current.id}}/delete">{{_("Delete")}}</a>
        % end
      </div>
    </form>
  % end
  </section>
</div>
