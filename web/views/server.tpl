% rebase('base.tpl')
<h2>{{_("Web server settings")}}</h2>
<ul class="tiles">
% for href, label in settings_items:
  <li><a class="tile" href="{{href}}">{{label}}</a></li>
% end
</ul>
<h2>{{_("Administration")}}</h2>
<ul class="tiles">
% for href, label in items:
  <li><a class="tile" href="{{href}}">{{label}}</a></li>
% end
</ul>
