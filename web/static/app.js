// Progressive enhancement only: every page works without this file.
(function () {
  document.documentElement.classList.add("js");
  // A page brought back from the back-forward cache holds its old forms and their used
  // one-time keys: load it anew, so that a correction is a new form, not a refused one.
  window.addEventListener("pageshow", function (e) { if (e.persisted) location.reload(); });
  // Show the where-to field of a visit form only when "moved" is chosen: forms that offer
  // the outcomes to choose (not the move's own question page, whose outcome is given).
  document.querySelectorAll("form.visit").forEach(function (f) {
    var field = f.querySelector("input[name=place]");
    if (!field || !f.querySelector("input[type=radio][name=outcome]")) return;
    var label = f.querySelector("label[for='" + field.id + "']");
    function sync() {
      var moved = f.querySelector("input[name=outcome]:checked");
      var on = moved && moved.value === "moved";
      field.hidden = !on; if (label) label.hidden = !on;
      field.required = !!on;
    }
    f.addEventListener("change", sync); sync();
  });
  // Money entries stand once recorded (only an administrator's reversal undoes one): ask
  // before sending, with the amount typed.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      var amount = f.querySelector("input[name=amount]");
      var msg = f.getAttribute("data-confirm") + (amount && amount.value ? " ¥" + amount.value : "");
      if (!window.confirm(msg)) e.preventDefault();
    });
  });
})();
