// Ketaflow's own script: progressive enhancement only; every page works without it.
// It warns a signed-in person a minute before the inactivity sign-out, lets them stay signed
// in (WCAG 2.2.1, timing adjustable), and takes the page off the screen once the session ends.
(function () {
  "use strict";
  // Focus the error summary after a failed form so keyboard and screen-reader users land on it.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // A self-report link just made: focused and selected, with a copy button (without the
  // script the field is still read-only text to select and copy by hand).
  var fresh = document.getElementById("new-link");
  if (fresh && !summary) {
    fresh.focus();
    fresh.select();
  }
  // The running total of an assessment form: the points of the answers chosen so far (the
  // server sends each answer's points; without the script the total shows when the form
  // comes back, and the stored score is always the server's).
  document.querySelectorAll("form[data-total-base]").forEach(function (form) {
    var out = form.querySelector("#running-total");
    if (!out) return;
    function update() {
      var chosen = form.querySelectorAll("input[type=radio][data-points]:checked");
      if (chosen.length === 0) {
        out.textContent = "–";
        return;
      }
      var total = parseInt(form.dataset.totalBase, 10);
      chosen.forEach(function (r) {
        total += parseInt(r.dataset.points, 10);
      });
      out.textContent = String(total);
    }
    form.addEventListener("change", update);
    update();
  });
  // The dose planner: show only the fields of the chosen route, and grey out the routes the
  // chosen model does not describe (without the script every field stays, each saying which
  // route uses it, and a mismatch is explained at the route field).
  var planner = document.getElementById("planner-form");
  if (planner) {
    var route = planner.querySelector("#route");
    var model = planner.querySelector("#model");
    var hint = planner.querySelector("#route-hint");
    var sync = function () {
      var chosenModel = model.value;
      Array.prototype.forEach.call(route.options, function (o) {
        var models = (o.dataset.models || "").split(" ");
        o.disabled = models.indexOf(chosenModel) < 0;
      });
      var picked = model.options[model.selectedIndex];
      if (hint && picked && picked.dataset.routesText) hint.textContent = picked.dataset.routesText;
      planner.querySelectorAll("[data-routes]").forEach(function (f) {
        f.hidden = f.dataset.routes.split(" ").indexOf(route.value) < 0;
      });
    };
    route.addEventListener("change", sync);
    model.addEventListener("change", sync);
    sync();
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copy + "-status");
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      function done() {
        if (status) status.textContent = "Copied. Paste it into the message to the patient.";
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          field.select();
          if (status) status.textContent = "Select the link and copy it with Ctrl+C.";
        });
      } else {
        field.select();
        if (document.execCommand && document.execCommand("copy")) done();
      }
    });
  });

  var body = document.body;
  if (!body || body.dataset.signedIn !== "1") return;
  var idle = parseInt(body.dataset.idleSeconds || "0", 10);
  if (!(idle > 0)) return;
  var warnAfter = Math.max(idle - 60, Math.floor(idle / 2)) * 1000;
  var dialog = document.getElementById("idle-warning");
  var stay = document.getElementById("idle-stay");
  var warnTimer, endTimer;

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    warnTimer = setTimeout(function () {
      if (dialog) {
        dialog.hidden = false;
        if (stay) stay.focus();
      }
    }, warnAfter);
    endTimer = setTimeout(function () {
      window.location.assign("/login?expired=1");
    }, idle * 1000 + 2000);
  }

  if (stay) {
    stay.addEventListener("click", function () {
      fetch("/session/ping", { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (r.ok) {
          dialog.hidden = true;
          schedule();
        } else {
          window.location.assign("/login?expired=1");
        }
      });
    });
  }
  schedule();
})();

// The chair board: the server sends the cards again whenever a session changes.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !window.EventSource) {
    return;
  }
  var source = new EventSource(board.getAttribute("data-live"));
  source.addEventListener("board", function (e) {
    board.innerHTML = e.data;
  });
})();
