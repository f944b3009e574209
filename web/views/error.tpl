% rebase('base.tpl')
<p class="message">{{message}}</p>
<p><a class="button" href="/">{{_("Home")}}</a></p>
