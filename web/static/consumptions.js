// Consumptions: draw the page's charts from the JSON it embeds (data-json): bars with uPlot
// (stacked per load or tariff, side by side for a comparison) and pies on a small canvas. The
// page already holds every number in its tables: without script only the drawings are missing.
"use strict";
(function () {
  var root = document.getElementById("cons");
  if (!root || !root.dataset.json) return;
  var data = null, plots = [];

  // ticking a tariff shows the page again with the tariffs ticked (the charts follow)
  root.querySelectorAll("input[type=checkbox][data-autosubmit]").forEach(function (box) {
    box.addEventListener("change", function () { box.form.submit(); });
  });

  // a number in the user's language: the separators come with the JSON (the pages' own formatting)
  function fmt(value, decimals) {
    var f = data.format, text = Math.abs(value).toFixed(decimals), parts = text.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, f.group);
    var out = parts[0] + (parts[1] ? f.decimal + parts[1] : "");
    return value < 0 && Number(text) !== 0 ? "-" + out : out;
  }

  // the decimals an axis step needs (0.25 -> 2, 0.5 -> 1, 20 -> 0)
  function decimalsOf(step) {
    for (var d = 0; d < 6; d++) {
      var scaled = step * Math.pow(10, d);
      if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
    }
    return 6;
  }

  // short labels for the axis: month names from the browser's own calendar in the page's language
  function shortLabels() {
    if (data.view !== "year" || !window.Intl) return data.short;
    try {
      var f = new Intl.DateTimeFormat(data.lang.replace("_", "-"), { month: "short", timeZone: "UTC" });
      return data.starts.map(function (iso) { return f.format(new Date(Date.UTC(2000, Number(iso.substr(5, 2)) - 1, 15))); });
    } catch (e) { return data.short; }
  }

  function sizeOf(el) {
    return { width: Math.max(200, el.clientWidth), height: Math.max(140, el.clientHeight) };
  }

  function barChart(box, ch) {
    var el = box.querySelector("[data-plot]"), readout = box.querySelector("[data-readout]");
    if (!el || !window.uPlot) return;
    var cats = ch.categories || shortLabels(), full = ch.categories || data.labels;
    var n = cats.length, xs = [], i;
    for (i = 0; i < n; i++) xs.push(i);
    var div = ch.divisor, columns = [xs], series = [{}], order = [];
    var one = ch.series.length === 1 || ch.stacked, width = one ? 0.7 : 0.8 / ch.series.length;
    function bar(s, align) {
      return { label: s.name, fill: s.colour, stroke: s.colour, width: 0, points: { show: false },
               paths: uPlot.paths.bars({ size: [width, 64], align: align }) };
    }
    if (ch.stacked) {
      // cumulated from the first series up; drawn top first so that each lower one paints over it
      var acc = xs.map(function () { return null; }), stacks = [];
      ch.series.forEach(function (s) {
        acc = acc.map(function (a, k) { var v = s.buckets[k]; return v == null ? a : (a || 0) + v / div; });
        stacks.push(acc);
      });
      for (i = ch.series.length - 1; i >= 0; i--) { columns.push(stacks[i]); series.push(bar(ch.series[i], 0)); order.push(i); }
    } else {
      ch.series.forEach(function (s, k) {
        columns.push(s.buckets.map(function (v) { return v == null ? null : v / div; }));
        series.push(bar(s, one ? 0 : (k === 0 ? -1 : 1)));
        order.push(k);
      });
    }
    function show(idx) {
      if (!readout) return;
      if (idx == null) { readout.textContent = ""; return; }
      var parts = ch.series.map(function (s) { return s.name + " " + s.texts[idx]; });
      if (ch.stacked && ch.series.length > 1) parts.push("= " + ch.texts[idx]);
      readout.textContent = full[idx] + ": " + parts.join(" \u00b7 ") + " " + ch.unit;
    }
    var opts = {
      width: sizeOf(el).width, height: sizeOf(el).height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false }, y: false },
      scales: {
        x: { time: false, range: [-0.5, n - 0.5] },
        y: { range: function (u, lo, hi) { return [Math.min(0, lo || 0), hi > 0 ? hi * 1.08 : 1]; } }
      },
      axes: [
        { incrs: [1, 2, 3, 4, 6, 12], space: 28, grid: { show: false },
          values: function (u, ticks) { return ticks.map(function (t) { return cats[t] != null ? cats[t] : ""; }); } },
        { size: 64, values: function (u, ticks) {
            var d = ticks.length > 1 ? decimalsOf(ticks[1] - ticks[0]) : 0;
            return ticks.map(function (t) { return fmt(t, d); }); } }
      ],
      series: series,
      hooks: { setCursor: [function (u) { show(u.cursor.idx); }] }
    };
    el.textContent = "";
    var u = new uPlot(opts, columns, el);
    plots.push({ u: u, el: el });
    var numbers = box.querySelector("details[data-fold]");
    if (numbers) numbers.open = false;   // drawn: the table of its numbers stays one click away
  }

  function pieChart(box, ch) {
    var canvas = box.querySelector("canvas[data-pie]");
    if (!canvas || !canvas.getContext) return;
    var ratio = window.devicePixelRatio || 1, css = canvas.clientWidth || 260;
    canvas.width = canvas.height = Math.round(css * ratio);
    var ctx = canvas.getContext("2d"), r = canvas.width / 2, angle = -Math.PI / 2;
    var slices = ch.series.filter(function (s) { return s.total > 0; });
    var whole = slices.reduce(function (a, s) { return a + s.total; }, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!whole) {
      ctx.beginPath(); ctx.arc(r, r, r * 0.95, 0, 2 * Math.PI); ctx.strokeStyle = "#d5dde5"; ctx.lineWidth = 2 * ratio; ctx.stroke();
      return;
    }
    slices.forEach(function (s) {
      var sweep = 2 * Math.PI * s.total / whole;
      ctx.beginPath(); ctx.moveTo(r, r); ctx.arc(r, r, r * 0.95, angle, angle + sweep); ctx.closePath();
      ctx.fillStyle = s.colour; ctx.fill();
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 2 * ratio; ctx.stroke();
      if (sweep > 0.3) {   // the share on the slice when it is wide enough
        var mid = angle + sweep / 2;
        ctx.fillStyle = "#fff"; ctx.font = "600 " + Math.round(13 * ratio) + "px system-ui, sans-serif";
        ctx.textAlign = "center"; ctx.textBaseline = "middle";
        ctx.fillText(fmt(100 * s.total / whole, 0) + " %", r + Math.cos(mid) * r * 0.6, r + Math.sin(mid) * r * 0.6);
      }
      angle += sweep;
    });
  }

  function draw() {
    plots.forEach(function (p) { p.u.destroy(); });
    plots = [];
    data.charts.forEach(function (ch) {
      var box = root.querySelector('[data-chart="' + ch.id + '"]');
      if (!box) return;
      if (ch.type === "pie") pieChart(box, ch); else barChart(box, ch);
    });
  }

  var pending = null;
  function resize() {
    if (pending) return;
    pending = window.requestAnimationFrame(function () {
      pending = null;
      plots.forEach(function (p) { p.u.setSize(sizeOf(p.el)); });
      if (data) data.charts.forEach(function (ch) {
        if (ch.type === "pie") pieChart(root.querySelector('[data-chart="' + ch.id + '"]'), ch);
      });
    });
  }
  window.addEventListener("resize", resize);

  // full screen, chart by chart (manual 8.2.2.6); the "Large view" link does without script
  if (document.fullscreenEnabled) {
    root.querySelectorAll("[data-fullscreen]").forEach(function (btn) {
      btn.hidden = false;
      btn.addEventListener("click", function () {
        if (document.fullscreenElement) document.exitFullscreen();
        else btn.closest(".chart-box").requestFullscreen();
      });
    });
    document.addEventListener("fullscreenchange", function () {
      root.querySelectorAll("[data-fullscreen]").forEach(function (btn) {
        var on = document.fullscreenElement === btn.closest(".chart-box");
        btn.textContent = on ? btn.dataset.off : btn.dataset.on;
      });
      resize();
    });
  }

  // the page's own numbers, embedded once (/api/consumptions/... gives the same to other clients)
  data = JSON.parse(root.dataset.json);
  draw();
})();
