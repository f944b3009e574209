// My panel board: refresh the list's status icons and the chosen device's values every few
// seconds (the page shows them already: without script, its "Refresh" link reloads it).
"use strict";
(function () {
  var root = document.getElementById("panel");
  if (!root || !root.dataset.api || !window.wsm) return;
  var initial = root.dataset.status;

  function icon(svg, kind, key, text) {
    if (!svg) return;
    svg.setAttribute("class", "icon " + kind + " " + kind + "-" + key);
    svg.setAttribute("aria-label", text);
    var use = svg.querySelector("use"), title = svg.querySelector("title");
    if (use) use.setAttribute("href", "#i-" + key);
    if (title) title.textContent = text;
  }

  function shown(v) {
    if (!v) return "\u2014";
    return v.unit ? v.text + "\u00a0" + v.unit : v.text;
  }

  function update(data) {
    if (!data || !data.ok) return;
    (data.devices || []).forEach(function (d) {
      var li = root.querySelector('li[data-dev="' + d.id + '"]');
      if (!li) return;
      li.dataset.status = d.status;
      icon(li.querySelector("svg.st"), "st", d.status, d.status_text);
      if (d.breaker) icon(li.querySelector("svg.brk"), "brk", d.breaker, d.breaker_text);
    });
    var dev = data.device;
    if (!dev) return;
    if ((dev.status === "off") !== (initial === "off")) { window.location.reload(); return; }  // measures appear or go
    icon(root.querySelector(".dev-status svg.st"), "st", dev.status, dev.status_text);
    var st = root.querySelector("[data-status-text]");
    if (st) st.textContent = dev.status_text;
    var at = root.querySelector("[data-read-at]");
    if (at) at.textContent = dev.read_at_text || "\u2014";
    var msg = root.querySelector("[data-message]");
    if (msg) { msg.textContent = dev.message || ""; msg.hidden = !dev.message; }
    var box = root.querySelector("[data-values]");
    if (box) box.classList.toggle("stale", dev.status === "error");
    root.querySelectorAll("[data-q]").forEach(function (cell) {
      var v = dev.values[cell.dataset.q], text = shown(v);
      if (cell.textContent !== text) cell.textContent = text;
      if (v && v.state) cell.dataset.state = v.state; else delete cell.dataset.state;
    });
  }

  // the chosen device stays in sight in the short list of a phone
  var current = root.querySelector(".devs a[aria-current]");
  if (current) {
    var list = current.closest(".devs");
    var top = current.offsetTop - list.offsetTop;
    if (top < list.scrollTop || top > list.scrollTop + list.clientHeight - current.offsetHeight) {
      list.scrollTop = top - list.clientHeight / 3;
    }
  }

  window.wsm.live(root.dataset.api, Number(root.dataset.refresh) || 3, update);
})();
