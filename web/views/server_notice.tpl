% rebase('base.tpl')
<div class="card">
  <p class="message">{{message}}</p>
  % if get('link'):
  <p><a class="button primary" href="{{link}}">{{link}}</a></p>
  % end
</div>
