% rebase('base.tpl')
<ul class="tiles sys-menu">
% for href, label, hint in entries:
  <li><a class="tile" href="{{href}}">{{label}}<small>{{hint}}</small></a></li>
% end
</ul>
