% rebase('base.tpl')
{{!form.general_error()}}
<div class="stack">
<section class="card">
  <h2>{{_("Backup")}}</h2>
  <p>{{_("Backup saves the configuration (installation, settings, users) as {name} in the FTP folder; copy it to your computer with an FTP client (user wsmeasure).").format(name=zip_name)}}</p>
  % if archive:
  <p>{{_("{name} in the FTP folder: {size}, {time}.").format(name=zip_name, size=archive["size"], time=archive["time"])}}</p>
  % else:
  <p class="hint">{{_("There is no {name} in the FTP folder.").format(name=zip_name)}}</p>
  % end
  <form method="post" action="/server/backup">
    {{!form.token()}}
    <button type="submit" class="primary">{{_("Backup")}}</button>
  </form>
</section>
<section class="card">
  <h2>{{_("Restore")}}</h2>
  <p>{{_("To restore a configuration, copy its {name} into the FTP folder, then press Restore.").format(name=zip_name)}}</p>
  <a class="button danger" href="/server/backup/restore">{{_("Restore")}}</a>
</section>
</div>
