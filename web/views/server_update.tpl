% rebase('base.tpl')
<div class="stack">
<table class="card facts">
  <tbody>
    <tr><th scope="row">{{_("Installed version")}}</th><td>{{installed}}</td></tr>
  % if state["active"]:
    <tr><th scope="row">{{_("Active slot")}}</th><td>{{state["active"]}}</td></tr>
  % end
  % if state["pending"]:
    <tr><th scope="row">{{_("Status")}}</th><td>{{_("On trial: start {tries} of {max}. The version is kept once it has worked for a minute; otherwise the box goes back to version {version} by itself.").format(tries=state["tries"], max=state["max_tries"], version=state["previous_version"] or "-")}}</td></tr>
  % elif state["previous"] and state["previous_version"]:
    <tr><th scope="row">{{_("Previous version")}}</th><td>{{_("{version} in {slot}").format(version=state["previous_version"], slot=state["previous"])}}</td></tr>
  % end
  </tbody>
</table>
% if state["queued"]:
<p class="flash warn">{{_("An update is being installed: the box restarts with it in about a minute.")}}</p>
% end
% if events:
<section class="card">
  <h2>{{_("Last updates")}}</h2>
  <table class="facts">
    <tbody>
    % for when, text in events:
      <tr><th scope="row">{{when}}</th><td>{{text}}</td></tr>
    % end
    </tbody>
  </table>
</section>
% end
<form method="post" action="/server/update" enctype="multipart/form-data" class="card">
  {{!form.token()}}
  {{!form.general_error()}}
  {{!form.input("bundle", _("Update file"), "", type="file", required=True, hint=_("Compare its version with the installed one; update only to a newer version. At most {size}.").format(size=limit))}}
  % if developer:
  <p class="hint">{{_("This is a developer machine: a bundle is verified, never installed.")}}</p>
  % end
  <div class="actions">
    <button type="submit" class="primary" data-confirm="{{_("Upload and install this update?")}}">{{_("Upgrade")}}</button>
  </div>
</form>
</div>
