// The live state on a participant's schedule page: polls now/next/today's changes
// (ETag, 304 when unchanged), slower than the hall board since a phone is in a pocket;
// keeps the last state when the network drops and retries with backoff. When the state's
// schedule_stamp differs from the one the list below was rendered with, the list is
// re-read from the server and swapped in, keeping the reader's place and focus: the card
// and the list must never name two different tables.
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
  // "Reconnecting…" is a status: its words are put in as it is shown (and only then), so
  // it is read out once when the network drops, not at every retry.
  var offline = document.getElementById("live-offline");
  var offlineText = offline.textContent;
  offline.textContent = "";
  function setOffline(away) {
    if (away === !offline.hidden) { return; }
    offline.hidden = !away;
    offline.textContent = away ? offlineText : "";
  }

  // Japanese names on a page in another language are marked, for a screen reader's
  // voice (as the server marks them: web/filters.ja).
  var JAPANESE = /[\u3000-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]/;
  var foreignPage = (document.documentElement.lang || "ja").indexOf("ja") !== 0;

  function name(words) {
    if (!(foreignPage && JAPANESE.test(words))) { return document.createTextNode(words); }
    var span = document.createElement("span");
    span.lang = "ja";
    span.textContent = words;
    return span;
  }

  function describe(node, m) {
    node.replaceChildren();
    if (!m) { node.textContent = "—"; return; }
    node.appendChild(document.createTextNode(m.slot.label + " "));
    var table = document.createElement("strong");
    table.textContent = m.table;
    node.appendChild(table);
    node.appendChild(document.createTextNode(" "));
    node.appendChild(name(m["with"].name));
  }

  // The changes already on the page; a poll that brings others says only those, in the
  // page's hidden status line (the list itself is redrawn whole and is not read out).
  function changeKey(change) {
    return [change.id, change.kind, change.slot.label, change.table].join("|");
  }
  var known = {};
  state.changes.forEach(function (change) { known[changeKey(change)] = true; });

  function changeText(change) {
    return change.kind === "cancelled"
      ? change.slot.label + " " + change["with"].name + " " + text[change.kind]
      : change.slot.label + " " + change.table + " " + change["with"].name + " " + text[change.kind];
  }

  function announce(changes) {
    var said = document.getElementById("live-announce");
    var arrived = changes.filter(function (change) { return !known[changeKey(change)]; });
    known = {};
    changes.forEach(function (change) { known[changeKey(change)] = true; });
    if (!said || !arrived.length) { return; }
    var label = document.querySelector("#live-changes .label");
    said.textContent = (label ? label.textContent + ": " : "") + arrived.map(changeText).join("; ");
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
        s.appendChild(document.createTextNode(change.slot.label + " "));
        s.appendChild(name(change["with"].name));
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

  // The list of meetings, cancellations and free slots (templates/schedules/_list.html).
  var listRoot = document.getElementById("schedule-list");
  var listUrl = listRoot && listRoot.getAttribute("data-list-url");
  var listStamp = listRoot && listRoot.getAttribute("data-stamp");
  var listLoading = false;

  // Where the reader is: the list's parts ([data-anchor]) from the first one still on
  // screen or below it, with where each stood; after the swap the first of them still
  // there is put back where it stood, so what is being read does not jump away (a part
  // that grew or vanished above the window would otherwise push it).
  function readingPlace() {
    var place = [];
    Array.prototype.forEach.call(listRoot.querySelectorAll("[data-anchor]"), function (part) {
      var box = part.getBoundingClientRect();
      if (box.bottom > 0) { place.push({ key: part.getAttribute("data-anchor"), top: box.top }); }
    });
    place.push({ key: null, top: listRoot.getBoundingClientRect().bottom });  // below the list
    return place;
  }

  function part(key) {
    var parts = listRoot.querySelectorAll("[data-anchor]");
    for (var i = 0; i < parts.length; i += 1) {
      if (parts[i].getAttribute("data-anchor") === key) { return parts[i]; }
    }
    return null;
  }

  function keepPlace(place) {
    for (var i = 0; i < place.length; i += 1) {
      var node = place[i].key === null ? null : part(place[i].key);
      if (place[i].key !== null && !node) { continue; }
      var top = node ? node.getBoundingClientRect().top : listRoot.getBoundingClientRect().bottom;
      if (top !== place[i].top) { window.scrollBy(0, top - place[i].top); }
      return;
    }
  }

  function swapList(html) {
    var fresh = document.createElement("template");
    fresh.innerHTML = html;
    if (fresh.innerHTML.trim() === listRoot.innerHTML.trim()) { return; }
    var place = readingPlace();
    // Focus inside the list (a reader who tabbed or clicked into it) stays on the same
    // part, or on the list itself when that part is gone, never falls back to the page.
    var focused = listRoot.contains(document.activeElement) ? document.activeElement : null;
    var focusKey = focused && focused.closest("[data-anchor]");
    focusKey = focusKey && focusKey.getAttribute("data-anchor");
    listRoot.replaceChildren(fresh.content);
    keepPlace(place);
    if (focused) {
      var target = (focusKey && part(focusKey)) || listRoot;
      if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
      target.focus({ preventScroll: true });
    }
  }

  // The list is re-read once per new stamp; a failed read is tried again at the next
  // poll. It is not announced: the change itself is, once, in the status line above.
  function refreshList() {
    var wanted = state.schedule_stamp;
    if (!listRoot || !listUrl || !wanted || wanted === listStamp || listLoading) { return; }
    listLoading = true;
    fetch(listUrl, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        swapList(html);
        listStamp = wanted;
        listRoot.setAttribute("data-stamp", wanted);
      })
      .catch(function () {})
      .then(function () { listLoading = false; });
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
        setOffline(false);
        if (fresh) { state = fresh; etag = fresh.etag; render(); announce(fresh.changes); }
        refreshList();
        schedule(pollMs);
      })
      .catch(function () {
        failures += 1;
        setOffline(true);
        schedule(Math.min(120000, pollMs * Math.pow(2, failures - 1)));
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { schedule(0); }
  });
  window.addEventListener("online", function () { schedule(0); });
  schedule(pollMs);
}());
