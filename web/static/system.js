// System configuration pages: small helpers; every form also works without them.
"use strict";

// Fields that apply to some models only (side: two-sided stations, phase: single-phase ones):
// hidden while the chosen model is known not to need them. The model select carries each
// model's tags in data-tags; the field's select says which tag it needs in data-when.
(function () {
  var model = document.querySelector("select[name=model][data-tags]");
  if (!model) return;
  var tags = {};
  try { tags = JSON.parse(model.dataset.tags); } catch (e) { return; }
  var fields = document.querySelectorAll("select[data-when]");
  function update() {
    var chosen = model.value, own = (tags[chosen] || "").split(" ");
    fields.forEach(function (sel) {
      var wanted = !chosen || own.indexOf(sel.dataset.when) >= 0;
      var box = sel.closest(".field");
      if (!wanted) sel.value = "";
      if (box) box.classList.toggle("is-hidden", !wanted);
      sel.disabled = !wanted;
    });
  }
  model.addEventListener("change", update);
  update();
})();

// "All" next to the Remote ID of a virtual device fills in 29999 (all electrical loads of the slave)
document.querySelectorAll("button[data-fill]").forEach(function (btn) {
  var target = document.getElementById(btn.dataset.fill);
  if (!target) return;
  btn.hidden = false;
  btn.addEventListener("click", function () { target.value = btn.dataset.value; target.focus(); });
});
