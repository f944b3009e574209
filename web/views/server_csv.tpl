% rebase('base.tpl')
<form method="post" action="/server/csv" class="card" autocomplete="off">
  {{!form.token()}}
  {{!form.general_error()}}
  {{!form.select("field_separator", _("CSV field separator"), [("semicolon", _("Semicolon")), ("comma", _("Comma"))], current["field_separator"])}}
  {{!form.select("decimal_separator", _("CSV decimal separator"), [("comma", _("Comma")), ("point", _("Point"))], current["decimal_separator"])}}
  {{!form.input("ftp_password", _("New FTP password"), "", type="password", autocomplete="new-password", maxlength=64, hint=(_("Leave empty to keep the current password.") + " " + (_("The factory password is in use.") if factory_ftp else "")).strip())}}
  {{!form.select("language", _("Default language"), languages, current["language"], hint=_("Applies at the next login."))}}
  {{!form.select("sample_rate", _("Data sample rate"), [(n, _("{n} min").format(n=n)) for n in rates], current["sample_rate"], hint=_("Recording of consumptions and statistics, and the CSV files."))}}
  <p class="hint">{{_("The FTP user name is wsmeasure.")}}</p>
  <div class="actions">
    <button type="submit" class="primary">{{_("Save")}}</button>
  </div>
</form>
