// Live progress of the run hrsync serve has in hand, read every two seconds without reloading.
(function () {
  "use strict";
  function minutes(seconds) {
    return seconds < 60 ? Math.round(seconds) + " s" : (seconds / 60).toFixed(1) + " min";
  }
  function describe(p) {
    if (!p.running) { return "No run in progress."; }
    var wait = p.waiting ? "; " + p.waiting.said : "";
    if (p.phase === "reading") {
      return "Running " + p.integration + ": reading HR and Zoho, " + p.calls_made +
        " calls made" + wait;
    }
    return "Running " + p.integration + ": " + p.changes_done + "/" + p.changes_total +
      " changes, " + p.calls_made + " calls made, " + p.calls_left + " left, ETA " +
      minutes(p.eta_seconds) + wait;
  }
  // A form whose approval must be typed (the count of changes at stake): its button stays
  // disabled until the typed text is the one asked for (the service checks it again).
  function typedApprovals() {
    var inputs = document.querySelectorAll("input[data-must-equal]");
    Array.prototype.forEach.call(inputs, function (input) {
      var button = input.form && input.form.querySelector("button[type=submit]");
      if (!button) { return; }
      function check() { button.disabled = input.value.trim() !== input.dataset.mustEqual; }
      input.addEventListener("input", check);
      check();
    });
  }
  // A queued run's page looks again every two seconds, until the run has begun.
  function followQueued() {
    if (document.getElementById("queued")) {
      setTimeout(function () { window.location.reload(); }, 2000);
    }
  }
  function start() {
    var line = document.getElementById("progress");
    var bar = document.getElementById("progress-bar");
    if (!line) { return; }
    function poll() {
      fetch(line.dataset.live, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) {
          if (!p) { return; }
          var text = describe(p);
          if (line.textContent !== text) { line.textContent = text; }
          bar.hidden = !(p.running && p.changes_total);
          if (p.changes_total) { bar.max = p.changes_total; bar.value = p.changes_done; }
        })
        .catch(function () { /* the service may be restarting: try again at the next tick */ });
    }
    poll();
    setInterval(poll, 2000);
  }
  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("DOMContentLoaded", typedApprovals);
  document.addEventListener("DOMContentLoaded", followQueued);
})();

// A table wider than the window scrolls in its own box: let the keyboard scroll it too.
(function () {
  "use strict";
  function reachable() {
    document.querySelectorAll("table").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth) {
        table.tabIndex = 0;
      } else {
        table.removeAttribute("tabindex");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", reachable);
  window.addEventListener("resize", reachable);
})();
