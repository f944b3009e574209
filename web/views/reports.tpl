% rebase('base.tpl')
<ul class="tiles">
% for key, label, href in tiles:
  <li><a class="tile tile-{{key}}" href="{{href}}">{{label}}</a></li>
% end
</ul>
