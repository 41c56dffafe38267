/* The run page: live progress of a run, and moving meetings with a live conflict check.
   Without JavaScript the page still works: it shows the state when loaded, and each
   "move" link opens the meeting's own page, whose form the server checks. */
(function () {
  "use strict";
  var box = document.getElementById("progress");
  var chart = document.getElementById("progress-chart");
  // Points are [seconds, best score, best possible]; the chart spans the first report to
  // "end" (the time elapsed), the last values holding until then, so a run that settles
  // at once is a flat line across the chart rather than nothing or a sliver at its edge.
  function draw(points, end) {
    if (!chart || !points || !points.length) { return; }  // no chart: nothing to draw
    points = points.slice();
    var last = points[points.length - 1];
    if (end > last[0]) { points.push([end, last[1], last[2]]); }
    if (points.length === 1) { points.push([last[0] + 1, last[1], last[2]]); }
    var minT = points[0][0], span = (points[points.length - 1][0] - minT) || 1;
    var values = points.map(function (p) { return p[1]; }).concat(points.map(function (p) { return p[2]; }));
    var hi = Math.max.apply(null, values), lo = Math.min.apply(null, values);
    if (hi === lo) { hi += 1; lo -= 1; }  // one value: a line across the middle
    document.getElementById("axis-hi").textContent = Math.round(hi);
    document.getElementById("axis-lo").textContent = Math.round(lo);
    function xy(t, v) { return (60 + 530 * (t - minT) / span).toFixed(1) + "," + (150 - 140 * (v - lo) / (hi - lo)).toFixed(1); }
    chart.querySelector(".objective-line").setAttribute("points", points.map(function (p) { return xy(p[0], p[1]); }).join(" "));
    chart.querySelector(".bound-line").setAttribute("points", points.map(function (p) { return xy(p[0], p[2]); }).join(" "));
  }
  if (chart) { draw(JSON.parse(chart.getAttribute("data-progress") || "[]"), parseFloat(chart.getAttribute("data-elapsed")) || 0); }
  function poll() {
    fetch(box.getAttribute("data-status-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        // Tenths while short: a run that settles in 0.4 s does not read "0 seconds".
        document.getElementById("elapsed").textContent = s.elapsed < 10 ? s.elapsed.toFixed(1) : Math.round(s.elapsed);
        document.getElementById("objective").textContent = s.objective === null ? "–" : s.objective;
        document.getElementById("bound").textContent = s.bound === null ? "–" : s.bound;
        // The status is a live region (role=status): written only when it changes, so a
        // screen reader says "running" once, not at every poll. Elapsed time and scores
        // change every poll and are not read out.
        var label = document.getElementById("run-status");
        if (label.textContent !== s.label) { label.textContent = s.label; }
        var queued = document.getElementById("queued-note");
        if (queued && s.status !== "queued") { queued.hidden = true; }
        else if (queued && s.queued_note) {
          // What it waits for: runs ahead, or no worker at all (then what to do about it).
          queued.textContent = s.queued_note;
          queued.className = s.no_worker ? "flash flash-warning" : "muted";
        }
        // A running run whose worker went silent (maybe killed): said until it beats again.
        var quiet = document.getElementById("quiet-note");
        if (quiet) { quiet.textContent = s.quiet_note || ""; quiet.hidden = !s.quiet_note; }
        var same = document.getElementById("same-event-note");
        if (same) { same.textContent = s.same_event_note || ""; same.hidden = !s.same_event_note; }
        var stopButton = document.getElementById("cancel-button");
        if (stopButton && s.status === "running") { stopButton.textContent = stopButton.getAttribute("data-running-label"); }
        draw(s.progress, s.elapsed);
        var cancel = document.getElementById("cancel-form");
        if (cancel && s.cancel_requested) { cancel.hidden = true; }
        if (s.finished) {
          // The finished page reads out its result once it has loaded (see below).
          try { window.sessionStorage.setItem(FINISHED_KEY, box.getAttribute("data-status-url")); } catch (e) { /* no storage */ }
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  if (box && box.getAttribute("data-finished") !== "true") { window.setTimeout(poll, 1000); }
  // Reloaded because the run just finished (not opened later): its result is said in the
  // page's status line, once, after the page has settled so the region is known.
  var FINISHED_KEY = "matchfair-run-finished";
  function sayResult() {
    var said = document.getElementById("run-result");
    var justFinished = null;
    try { justFinished = window.sessionStorage.getItem(FINISHED_KEY); } catch (e) { return; }
    if (!said || !box || justFinished !== box.getAttribute("data-status-url")) { return; }
    try { window.sessionStorage.removeItem(FINISHED_KEY); } catch (e) { /* no storage */ }
    var parts = [document.getElementById("run-status").textContent.trim()];
    var score = document.getElementById("objective");
    if (score && score.textContent.trim() !== "–" && score.nextElementSibling) {
      parts.push(score.nextElementSibling.textContent.trim() + ": " + score.textContent.trim());
    }
    var error = document.getElementById("run-error");
    if (error && !error.hidden && error.textContent.trim()) { parts.push(error.textContent.trim()); }
    window.setTimeout(function () { said.textContent = parts.join(". "); }, 800);
  }
  if (box && box.getAttribute("data-finished") === "true") { sayResult(); }

  // A move form (the dialog's or the meeting page's): every change of slot or table is
  // checked at once; the button waits for "no conflict" (the server checks again).
  function moveForm(form, answered) {
    var slot = form.elements.slot, table = form.elements.table;
    var submit = form.querySelector("button[type=submit]");
    var list = form.querySelector(".conflicts"), ok = form.querySelector(".ok-note");
    // "No conflict" is read out as the conflicts are: a status whose words are put in as
    // it is shown (a region that only turns visible is not always read).
    var okText = ok.textContent;
    if (!ok.hasAttribute("role")) { ok.setAttribute("role", "status"); }
    var asked = 0;
    function check() {
      submit.disabled = true; ok.hidden = true; ok.textContent = ""; list.textContent = "";
      if (!form.elements.a.value || !form.elements.b.value) { return; }
      var mine = ++asked;
      var query = new URLSearchParams({a: form.elements.a.value, b: form.elements.b.value,
                                       slot: slot.value, table: table ? table.value : ""});
      fetch(form.getAttribute("data-check-url") + "?" + query, {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (result) {
          if (mine !== asked) { return; }  // an answer to an earlier choice
          result.conflicts.forEach(function (text) {
            var li = document.createElement("li"); li.textContent = text; list.appendChild(li);
          });
          ok.hidden = !result.ok; submit.disabled = !result.ok;
          if (result.ok) { ok.textContent = okText; }
          if (answered) { answered(result); }
        })
        .catch(function () { submit.disabled = false; });  // no check: the server's refusal tells
    }
    slot.addEventListener("change", check);
    if (table) { table.addEventListener("change", check); }
    return check;
  }

  var dialog = document.getElementById("move-dialog");
  if (dialog && typeof dialog.showModal === "function") {
    var form = dialog.querySelector("form"), what = document.getElementById("move-what");
    var check = moveForm(form, function (result) { if (result.meeting) { what.textContent = result.meeting; } });
    // One dialog for every meeting of the list: a "move" link fills it in.
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[data-move]") : null;
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
      event.preventDefault();
      var pair = link.getAttribute("data-move").split("|");
      form.elements.a.value = pair[0]; form.elements.b.value = pair[1];
      form.elements.slot.value = link.getAttribute("data-slot");
      if (form.elements.table && link.getAttribute("data-table")) { form.elements.table.value = link.getAttribute("data-table"); }
      what.textContent = pair.join("–");
      dialog.querySelector(".move-page").setAttribute("href", link.getAttribute("href"));
      dialog.showModal();
      check();
    });
    dialog.querySelector("[data-close]").addEventListener("click", function () { dialog.close(); });
  } else if (dialog) {
    dialog.remove();  // no dialogs in this browser: the links open the meeting pages
  }
  document.querySelectorAll("form.move-form").forEach(function (each) {
    if (!each.closest("dialog")) { moveForm(each)(); }  // the meeting page: check where it is now
  });
})();
