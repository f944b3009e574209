% rebase('base.tpl')
<div class="split">
  <section class="list">
    <a class="button add" href="/server/users/new">{{_("Add")}}</a>
    <ul class="items">
    % for person in people:
      <li><a href="/server/users/{{person.id}}"{{!' aria-current="page"' if current not in (None, "new") and current.id == person.id else ""}}
             class="{{"" if person.enabled else "disabled"}}">{{person.name}}
        % if not person.enabled:
        <small>({{_("disabled")}})</small>
        % end
      </a></li>
    % end
    </ul>
  </section>
  <section class="detail">
  % if current is None:
    <p class="hint">{{_("Choose a user to edit, or Add one.")}}</p>
  % else:
    % new = current == "new"
    <form method="post" action="{{"/server/users/new" if new else "/server/users/%d" % current.id}}" autocomplete="off">
      {{!form.token()}}
      {{!form.general_error()}}
      {{!form.input("name", _("Name"), "" if new else current.name, required=True, maxlength=64)}}
      {{!form.input("pin", _("PIN"), "", type="password", inputmode="numeric", maxlength=12, hint=_("5 to 8 digits; the PIN says who logs in, so it differs from every other user's.") if new else _("Leave empty to keep the current PIN."))}}
      {{!form.input("puk", _("PUK"), "", type="password", inputmode="numeric", maxlength=24, hint=_("14 digits; spaces are ignored.") if new else _("Leave empty to keep the current PUK."))}}
      {{!form.switch("enabled", _("Enabled"), True if new else current.enabled, hint=_("A disabled user keeps their settings but cannot log in."))}}
      {{!form.checks("pages", _("Pages this user can see"), page_labels, () if new else current.pages.split(","))}}
      <div class="actions">
        <button type="submit" class="primary">{{_("Save")}}</button>
        % if not new and not current.admin:
        <a class="button danger" href="/server/users/{{current.id}}/erase">{{_("Erase")}}</a>
        % end
      </div>
    </form>
  % end
  </section>
</div>
