% rebase('base.tpl')
<p class="hint">{{_("Histograms per day (hours), month (days), year (months) and 10 years (years), compared with the previous period, in units and in currency.")}}</p>
<ul class="tiles cons-menu">
% for href, label, hint in entries:
  <li><a class="tile" href="{{href}}">{{label}}<span class="hint">{{hint}}</span></a></li>
% end
</ul>
