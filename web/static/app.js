// Progressive enhancement only: every page works without this file.
(function () {
  document.documentElement.classList.add("js");
  // One-time keys (newOnce in web/person.go: 12 random bytes in hex). A form sent twice
  // with its key acts once: the server answers "recorded" for the same fields and refuses
  // other ones. A page brought back by the back button holds its forms as they were:
  //  - a form sent with no answer seen (no signal: the browser showed its own error page,
  //    which runs no script) keeps its key and its fields, so that, sent again once the
  //    signal is back, it records once, whether the first sending arrived or not;
  //  - every other form gets a new key, made here, so that a correction after an answered
  //    sending is a new form, not a refused one.
  // Not a reload of the page, as before: with no signal the reload failed, and the choice
  // made was lost. sessionStorage "sc.sent" holds the forms sent without an answer seen
  // (key → action and fields), so that a page the browser loads anew for the back button
  // (not kept in its cache) gets them back too; any page loaded otherwise is the answer.
  var store = null;
  try { store = window.sessionStorage; } catch (err) { /* storage off: keys only */ }
  function sent() {
    try { return JSON.parse(store && store.getItem("sc.sent") || "{}") || {}; } catch (err) { return {}; }
  }
  function keep(m) {
    try { if (store) store.setItem("sc.sent", JSON.stringify(m)); } catch (err) { /* full or off */ }
  }
  function newKey() {
    var b = new Uint8Array(12), s = "";
    window.crypto.getRandomValues(b);
    for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return s;
  }
  function fields(f) {
    var out = [];
    Array.prototype.forEach.call(f.elements, function (e) {
      if (!e.name || e.name === "csrf" || e.name === "once" || e.type === "hidden") return;
      if ((e.type === "radio" || e.type === "checkbox") && !e.checked) return;
      out.push([e.name, e.value]);
    });
    return out;
  }
  function fill(f, list) {
    Array.prototype.forEach.call(f.elements, function (e) {
      if (!e.name || e.type === "hidden" || e.type === "submit") return;
      var vals = list.filter(function (p) { return p[0] === e.name; }).map(function (p) { return p[1]; });
      if (e.type === "radio" || e.type === "checkbox") e.checked = vals.indexOf(e.value) >= 0;
      else if (vals.length) e.value = vals[0];
    });
    f.dispatchEvent(new Event("change"));
  }
  function keyed() {
    return Array.prototype.filter.call(document.querySelectorAll("form"), function (f) { return f.elements.once; });
  }
  function howLoaded() {
    var nav = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (nav) return nav.type;
    return window.performance && performance.navigation && performance.navigation.type === 2 ? "back_forward" : "navigate";
  }
  // On the document, so that it hears a sending after the form's own listeners (a money
  // entry's question) let it go.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (e.defaultPrevented || !f.elements || !f.elements.once) return;
    var m = sent();
    m[f.elements.once.value] = {action: f.getAttribute("action"), fields: fields(f)};
    keep(m);
  });
  if (howLoaded() === "back_forward") {
    // Loaded anew for the back button: its forms have new keys; one sent without an
    // answer takes back its key and fields (only where its action names one form).
    var m = sent();
    Object.keys(m).forEach(function (k) {
      var forms = keyed().filter(function (f) { return f.getAttribute("action") === m[k].action; });
      if (forms.length !== 1) return;
      forms[0].elements.once.value = k;
      fill(forms[0], m[k].fields);
    });
  } else if (store) {
    try { store.removeItem("sc.sent"); } catch (err) { /* off */ }
  }
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    var m = sent();
    // A key kept is kept by the form that sent it alone (its action): forms of one page
    // share the page's key, and another card's visit sent with it would be refused.
    keyed().forEach(function (f) {
      var s = m[f.elements.once.value];
      if (!s || s.action !== f.getAttribute("action")) f.elements.once.value = newKey();
    });
  });
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
