// Forms: a sent form's buttons wait (no double send); a form being typed in is never
// replaced by a live update (the page says the plan changed instead).
(function () {
  "use strict";
  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form[data-form]");
    if (form) { form.setAttribute("data-dirty", "yes"); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-form]")) { return; }
    if (form.getAttribute("data-sent") === "yes") { event.preventDefault(); return; }
    form.setAttribute("data-sent", "yes");
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-busy", "true"); b.disabled = true; });
    }, 0);
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "live") { return; }
    if (target.querySelector("form[data-dirty], form[data-sent]")) {
      event.detail.shouldSwap = false;
      var note = document.querySelector(".live-note");
      if (note) {
        note.textContent = "The plan has just changed. Your unsent form is kept; sending it shows what changed first.";
      }
    }
  });
  // A page shown again from the back-forward cache may be sent again: its buttons work again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.removeAttribute("aria-busy"); b.disabled = false; });
    });
  });
})();
