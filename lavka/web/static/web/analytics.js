// The analytics page: once the recompute job shown on it has finished, reload the page
// without the job, so that the new results appear.
(function () {
  "use strict";
  function watch() {
    var box = document.querySelector("[data-analytics-job]");
    if (!box) { return; }
    var observer = new MutationObserver(function () {
      var progress = box.querySelector("#job-progress");
      if (progress && progress.hasAttribute("data-job-finished") &&
          progress.getAttribute("data-job-status") === "succeeded") {
        observer.disconnect();
        window.setTimeout(function () { window.location.assign(window.location.pathname); }, 600);
      }
    });
    observer.observe(box, { childList: true, subtree: true, attributes: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else {
    watch();
  }
})();
