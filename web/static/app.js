// wsmeasure pages: small progressive enhancements; every page also works without them.
"use strict";

// the language list submits itself when changed
document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
  sel.addEventListener("change", function () { sel.form.submit(); });
});

// forms or buttons with data-confirm ask before acting
document.addEventListener("submit", function (ev) {
  var el = ev.submitter && ev.submitter.dataset.confirm ? ev.submitter : ev.target;
  if (el.dataset && el.dataset.confirm && !window.confirm(el.dataset.confirm)) ev.preventDefault();
});

// wsm.live(url, seconds, fn): fetch JSON now and every few seconds while the page is visible
window.wsm = {
  csrf: function () { var m = document.querySelector('input[name="csrf"]'); return m ? m.value : ""; },
  live: function (url, seconds, fn) {
    var timer = null;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) {
          if (r.status === 401) { window.location = "/login?next=" + encodeURIComponent(location.pathname); return null; }
          return r.json();
        })
        .then(function (data) { if (data) fn(data); })
        .catch(function () { /* the box may be restarting: next tick retries */ })
        .finally(function () { timer = setTimeout(tick, seconds * 1000); });
    }
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { clearTimeout(timer); timer = null; } else if (!timer) { tick(); }
    });
    tick();
  }
};
