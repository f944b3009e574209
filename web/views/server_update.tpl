% rebase('base.tpl')
<div class="stack">
<p class="card">{{_("Installed version: {version}").format(version=installed)}}</p>
<form method="post" action="/server/update" enctype="multipart/form-data" class="card">
  {{!form.token()}}
  {{!form.general_error()}}
  {{!form.input("bundle", _("Update file"), "", type="file", required=True, hint=_("Compare its version with the installed one; update only to a newer version. At most {size}.").format(size=limit))}}
  <div class="actions">
    <button type="submit" class="primary" data-confirm="{{_("Upload and install this update?")}}">{{_("Upgrade")}}</button>
  </div>
</form>
</div>
