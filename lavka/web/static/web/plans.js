// The plans pages: selects and checkboxes marked data-autosubmit apply at once;
// Escape in a target being edited cancels the edit.
(function () {
  "use strict";
  function start() {
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      var form = event.target.closest && event.target.closest(".plans-edit");
      if (!form) { return; }
      var cancel = form.querySelector("button[type=button]");
      if (cancel) { cancel.click(); }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
