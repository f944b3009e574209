% rebase('base.tpl')
<table class="card facts">
  <tbody>
  % for label, value in rows:
    <tr><th scope="row">{{label}}</th><td>{{value}}</td></tr>
  % end
    <tr><th scope="row">{{_("Database health")}}</th><td class="st-{{"on" if health_kind == "ok" else "error"}}">{{health_state}}</td></tr>
  </tbody>
</table>
% if cpu_high:
<p class="flash warn">{{_("A CPU use above 80 % for a long time can mean a hardware problem.")}}</p>
% end
% if backup_error:
<p class="flash error">{{_("The automatic backup failed: contact technical support.")}}</p>
% end
<p class="hint">{{_("The automatic backup is kept on the box; it is not the database.zip of the Backup page.")}}</p>
<form method="post" action="/server/sysinfo/optimize" class="actions">
  {{!form.token()}}
  <button type="submit" class="{{"primary" if health_kind != "ok" else ""}}" data-confirm="{{_("Optimize the database now? The pages may be slow meanwhile.")}}">{{_("Optimize")}}</button>
  <p class="hint">{{_("Optimizing packs the database of the measures; it may take a few minutes.")}}</p>
</form>
