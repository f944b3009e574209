// Reports & data download: "Select all" ticks every item (and an item unticked unticks it);
// the month is hidden for a yearly report. Every form also works without this script.
"use strict";

document.querySelectorAll("form[data-report-form]").forEach(function (form) {
  var all = form.querySelector("input[data-select-all]");
  var items = form.querySelectorAll("input[data-item]");
  if (all) {
    all.addEventListener("change", function () {
      items.forEach(function (box) { box.checked = all.checked; });
    });
    items.forEach(function (box) {
      box.addEventListener("change", function () {
        if (!box.checked) all.checked = false;
        else all.checked = Array.prototype.every.call(items, function (b) { return b.checked; });
      });
    });
  }
  var period = form.querySelector("select[name=period]");
  var month = form.querySelector("select[name=month]");
  if (period && month) {
    var field = month.closest(".field");
    var update = function () { if (field) field.classList.toggle("is-hidden", period.value === "yearly"); };
    period.addEventListener("change", update);
    update();
  }
});
