// The live state on a participant's schedule page: polls now/next/today's changes
// (ETag, 304 when unchanged), slower than the hall board since a phone is in a pocket;
// keeps the last state when the network drops and retries with backoff.
(function () {
  "use strict";
  var root = document.getElementById("live-state");
  if (!root) { return; }
  var text = JSON.parse(document.getElementById("live-text").textContent);
  var state = JSON.parse(document.getElementById("live-initial").textContent);
  var url = root.getAttribute("data-live-url");
  var pollMs = parseInt(root.getAttribute("data-poll-ms"), 10) || 20000;
  var etag = state.etag;
  var failures = 0;
  var timer = null;

  function describe(node, m) {
    node.replaceChildren();
    if (!m) { node.textContent = "—"; return; }
    node.appendChild(document.createTextNode(m.slot.label + " "));
    var table = document.createElement("strong");
    table.textContent = m.table;
    node.appendChild(table);
    node.appendChild(document.createTextNode(" " + m["with"].name));
  }

  function render() {
    describe(document.getElementById("live-now"), state.now);
    describe(document.getElementById("live-next"), state.next);
    var list = document.getElementById("live-change-list");
    var items = document.createDocumentFragment();
    state.changes.forEach(function (change) {
      var li = document.createElement("li");
      li.className = "live-change live-" + change.kind;
      if (change.kind === "cancelled") {
        var s = document.createElement("s");
        s.textContent = change.slot.label + " " + change["with"].name;
        li.appendChild(s);
      } else {
        describe(li, change);
      }
      li.appendChild(document.createTextNode(" " + text[change.kind]));
      items.appendChild(li);
    });
    list.replaceChildren(items);
    document.getElementById("live-changes").hidden = state.changes.length === 0;
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    if (document.hidden) { schedule(pollMs); return; }
    fetch(url, { headers: { "If-None-Match": '"' + etag + '"' }, cache: "no-store" })
      .then(function (response) {
        if (response.status === 304) { return null; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (fresh) {
        failures = 0;
        document.getElementById("live-offline").hidden = true;
        if (fresh) { state = fresh; etag = fresh.etag; render(); }
        schedule(pollMs);
      })
      .catch(function () {
        failures += 1;
        document.getElementById("live-offline").hidden = false;
        schedule(Math.min(120000, pollMs * Math.pow(2, failures - 1)));
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { schedule(0); }
  });
  window.addEventListener("online", function () { schedule(0); });
  schedule(pollMs);
}());
