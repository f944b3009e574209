<!doctype html>
<html lang="{{html_lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title + " · " if title else ""}}wsmeasure</title>
<link rel="stylesheet" href="{{static('style.css')}}">
% for sheet in get('styles', ()):
<link rel="stylesheet" href="{{static(sheet)}}">
% end
<link rel="icon" href="{{static('favicon.svg')}}" type="image/svg+xml">
<script src="{{static('app.js')}}" defer></script>
% for script in get('scripts', ()):
<script src="{{static(script)}}" defer></script>
% end
</head>
<body>
<header class="top">
  <a class="brand" href="/">wsmeasure</a>
  <nav class="tools">
    % if back:
    <a href="{{back}}" class="back">{{_("Back")}}</a>
    % end
    % if user:
    <a href="/">{{_("Home")}}</a>
    <a href="/logout" class="logout">{{_("Logout")}}</a>
    % end
    <form method="post" action="/language" class="lang">
      {{!form.token()}}
      <input type="hidden" name="next" value="{{path}}">
      <label class="sr" for="lang-select">{{_("Language")}}</label>
      <select id="lang-select" name="lang" data-autosubmit>
        % for code, name in languages:
        <option value="{{code}}"{{!" selected" if code == lang else ""}}>{{name}}</option>
        % end
      </select>
      <noscript><button>{{_("OK")}}</button></noscript>
    </form>
  </nav>
</header>
<main>
% if title:
<h1>{{title}}</h1>
% end
% for kind, message in flash:
<p class="flash {{kind}}" role="status">{{message}}</p>
% end
{{!base}}
</main>
<footer>wsmeasure {{version}}{{!" · " + user.name if user else ""}}</footer>
</body>
</html>
