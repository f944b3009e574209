% rebase('base.tpl')
<div class="card narrow">
  % if can_disable:
  <form method="post" action="{{base}}/{{row.id}}/switch" class="choice">
    {{!form.token()}}
    % if row.enabled:
    <p>{{_("Disable: it keeps what is assigned to it and is no longer offered for new assignments.")}}</p>
    <button type="submit" name="on" value="off">{{_("Disable")}}</button>
    % else:
    <p>{{_("It is disabled. Enable: it is offered again for new assignments.")}}</p>
    <button type="submit" name="on" value="on">{{_("Enable")}}</button>
    % end
  </form>
  % end
  % if erasable:
  <form method="post" action="{{base}}/{{row.id}}/erase" class="choice">
    {{!form.token()}}
    <p>{{_("Erase: removed for good. The devices or gateways assigned to it are left unassigned.")}}</p>
    <button type="submit" class="danger">{{_("Erase")}}</button>
  </form>
  % else:
  <p class="hint">{{_("A built-in load cannot be erased.")}}</p>
  % end
  <a class="button" href="{{back}}">{{_("Cancel")}}</a>
</div>
