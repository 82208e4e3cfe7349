// Progress of a CSV upload, updated while it is being published. The page works without this
// script (it has a "check again" link); with it, the bar moves and the page reloads when done.
(function () {
  "use strict";
  var box = document.getElementById("import-status");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        var bar = document.getElementById("import-progress");
        var count = document.getElementById("import-count");
        if (bar) { bar.value = job.done; bar.max = job.total; }
        if (count) { count.textContent = String(job.done); }
        if (job.state === "publishing") { window.setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
}());
