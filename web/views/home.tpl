% rebase('base.tpl')
% if user.factory_codes:
<p class="flash warn">{{_("You are using the factory PIN and PUK printed in the manual. Change them now.")}}
% if may("users"):
<a href="/server/users/{{user.id}}">{{_("Change my codes")}}</a>
% else:
{{_("Ask your administrator to change them.")}}
% end
</p>
% end
<ul class="tiles">
% for key, label, href in tiles:
  <li><a class="tile tile-{{key}}" href="{{href}}">{{label}}</a></li>
% end
</ul>
