/* Progressive enhancement of the explorers: apply a filter as soon as a box is ticked.
   Without JavaScript the form's Apply button does the same. The URL always holds the view. */
(function () {
  "use strict";
  var form = document.getElementById("filter-form");
  if (!form) return;
  form.querySelectorAll("input[type=checkbox]").forEach(function (box) {
    box.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
  });
  form.addEventListener("submit", function () {
    // keep URLs short and shareable: drop empty fields
    form.querySelectorAll("input").forEach(function (i) { if (!i.value && i.name) i.disabled = true; });
  });
})();
