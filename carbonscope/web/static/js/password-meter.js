/* Strength meter of new-password fields. It asks the server (POST /api/v1/password-strength) so the
   meter and the policy the form is checked by always agree: length, the breached-password list, and
   how guessable the password is given the account's e-mail and name. Without JavaScript the form
   still works; the server gives the same verdict when it is sent. */
(function () {
  "use strict";
  document.querySelectorAll("input[data-strength]").forEach(function (input) {
    var box = document.getElementById(input.getAttribute("data-strength"));
    if (!box) return;
    var meter = box.querySelector("meter"), words = box.querySelector(".strength-words");
    var form = input.form, timer = null, asked = 0;
    function field(name) { var f = form && form.querySelector("[name=" + name + "]"); return f ? f.value : ""; }
    function ask() {
      var n = ++asked;
      if (!input.value) { box.hidden = true; input.setCustomValidity(""); return; }
      fetch("/api/v1/password-strength", {
        method: "POST", headers: {"Content-Type": "application/json"}, credentials: "same-origin",
        body: JSON.stringify({password: input.value, email: field("email"), name: field("display_name")})
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (s) {
        if (!s || n !== asked) return;
        box.hidden = false;
        meter.value = s.score;
        words.textContent = s.words;
        box.className = "strength " + (s.acceptable ? "strength-good" : "strength-weak");
        input.setCustomValidity(s.acceptable ? "" : s.words);
      }).catch(function () { /* the server checks again when the form is sent */ });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 250); });
  });
})();
