// The hall board: polls the room's state every few seconds (ETag, 304 when unchanged),
// counts down to the end of the slot from the slot times, and keeps the last good state
// on screen while the network is away (retrying with backoff, "Reconnecting" badge).
// The stylesheet lays the tables out in as many columns as fit; when they still do not
// fit the screen, they are shown a page at a time, turning every PAGE_MS ("Page 1/3").
(function () {
  "use strict";
  var root = document.getElementById("board");
  if (!root) { return; }
  var text = JSON.parse(document.getElementById("board-text").textContent);
  var state = JSON.parse(document.getElementById("board-initial").textContent);
  var url = root.getAttribute("data-state-url");
  var pollMs = parseInt(root.getAttribute("data-poll-ms"), 10) || 2500;
  var maxBackoffMs = 15000;
  var LATER_MS = 12 * 3600 * 1000;  // further ahead than this, no countdown
  // Long enough to find one's table and read both lines of a card from the back of the
  // hall; a room of 24 tables at 1080p needs two or three pages.
  var PAGE_MS = parseInt(root.getAttribute("data-page-ms"), 10) || 10000;
  var offset = Date.parse(state.server_time) - Date.now();  // server clock minus ours
  var etag = state.etag;
  var failures = 0;
  var timer = null;
  var lastSignal = null;
  var audio = null;
  var chimeOn = false;

  function el(id) { return document.getElementById(id); }

  function write(id, words) {
    var node = el(id);
    if (node.textContent !== words) { node.textContent = words; }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clock(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    return pad(Math.floor(s / 60)) + ":" + pad(s % 60);
  }

  function pair(m) {
    return m.a.name + " × " + m.b.name;
  }

  // Japanese names on a page in another language are marked, for a screen reader's
  // voice (as the server marks them: web/filters.ja).
  var JAPANESE = /[\u3000-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]/;
  var foreignPage = (document.documentElement.lang || "ja").indexOf("ja") !== 0;

  function cell(tag, cls, content, changed) {
    var node = document.createElement(tag);
    node.className = cls;
    if (foreignPage && JAPANESE.test(content)) {
      var words = document.createElement("span");
      words.lang = "ja";
      words.textContent = content;
      node.appendChild(words);
    } else {
      node.textContent = content;
    }
    if (changed) {
      var badge = document.createElement("span");
      badge.className = "board-changed";
      badge.textContent = text.changed;
      node.appendChild(document.createTextNode(" "));
      node.appendChild(badge);
    }
    return node;
  }

  function render() {
    var body = el("board-rows");
    var rows = document.createDocumentFragment();
    state.tables.forEach(function (table) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-table", table.id);
      var th = cell("th", "board-table", table.label, false);
      th.setAttribute("scope", "row");
      tr.appendChild(th);
      tr.appendChild(cell("td", "board-now", table.now ? pair(table.now) : text.no_meeting,
        table.now && table.now.changed));
      var next = cell("td", "board-next",
        table.next ? table.next.slot.label + " " + pair(table.next) : text.no_meeting,
        table.next && table.next.changed);
      next.setAttribute("data-label", text.next_label);
      tr.appendChild(next);
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
    paginate();
    tick();
  }

  // ---- pages: the rows shared out into screenfuls, whole lines of the grid at a time.
  var pages = [];
  var pageAt = 0;

  function paginate() {
    var body = el("board-rows");
    var rows = Array.prototype.slice.call(body.children);
    rows.forEach(function (row) { row.hidden = false; });
    // From the top of the rows to the bottom of the screen (the page turns, it never
    // scrolls: a projector has no one to scroll it).
    var room = window.innerHeight - body.getBoundingClientRect().top - 8;
    var lines = [];
    rows.forEach(function (row) {
      var box = row.getBoundingClientRect();
      var last = lines[lines.length - 1];
      if (last && Math.abs(box.top - last.top) < 2) {
        last.rows.push(row);
        last.bottom = Math.max(last.bottom, box.bottom);
      } else {
        lines.push({ top: box.top, bottom: box.bottom, rows: [row] });
      }
    });
    pages = [];
    var start = 0;
    lines.forEach(function (line) {
      var page = pages[pages.length - 1];
      if (page && line.bottom - start <= room) {
        Array.prototype.push.apply(page, line.rows);
      } else {
        pages.push(line.rows.slice());
        start = line.top;
      }
    });
    if (pageAt >= pages.length) { pageAt = 0; }
    showPage();
  }

  function showPage() {
    var shown = pages[pageAt] || [];
    pages.forEach(function (page) {
      page.forEach(function (row) { row.hidden = shown.indexOf(row) < 0; });
    });
    var many = pages.length > 1;
    el("board-page").hidden = !many;
    write("board-page-number", many ? (pageAt + 1) + "/" + pages.length : "");
  }

  function turnPage() {
    if (pages.length < 2) { return; }
    pageAt = (pageAt + 1) % pages.length;
    showPage();
  }

  // Where the clock stands, from the slot times (the server's phase is only a start).
  function phaseAt(now) {
    var cur = state.current_slot, nxt = state.next_slot;
    // ``until`` says what the countdown counts down to (its label).
    if (cur && now < Date.parse(cur.ends_at)) {
      var left = Date.parse(cur.ends_at) - now;
      return { phase: "meeting", left: left, slot: cur, until: "ends_in",
               signal: left <= state.warning_seconds * 1000 ? "five_minutes" : null };
    }
    if (nxt && now < Date.parse(nxt.starts_at)) {
      var phase = state.phase === "meeting" ? "changeover" : state.phase;
      return { phase: phase, left: Date.parse(nxt.starts_at) - now, slot: nxt,
               until: phase === "before" ? "first_in" : "starts_in",
               signal: phase === "changeover" ? "change" : null };
    }
    if (nxt) {  // the next slot began before the next poll arrived
      return { phase: "meeting", left: Date.parse(nxt.ends_at) - now, slot: nxt,
               until: "ends_in", signal: null };
    }
    return { phase: "over", left: 0, slot: null, until: null, signal: null };
  }

  function tick() {
    var at = phaseAt(Date.now() + offset);
    // Before the fair's day (a screen tried out days ahead), a countdown in minutes
    // would read like 120881:48: the first meeting's date and time say it instead.
    var later = at.phase === "before" && at.left > LATER_MS;
    // The phase is a live region: written only when it changes (rewriting the same words
    // every second can make a screen reader say them again and again).
    write("board-phase", later ? text.later : (text[at.phase] || ""));
    write("board-countdown-label", later || !at.until ? "" : text[at.until]);
    write("board-countdown", at.phase === "over" ? "" : (later ? at.slot.date : clock(at.left)));
    write("board-slot", at.slot ? at.slot.label : "");
    var signal = el("board-signal");
    root.classList.toggle("board-warning", at.signal === "five_minutes");
    root.classList.toggle("board-change", at.signal === "change");
    if (at.signal) {
      signal.hidden = false;  // shown, then its words put in: a status reads them out
      if (signal.textContent !== text[at.signal]) { signal.textContent = text[at.signal]; }
    } else if (!signal.hidden) {
      signal.hidden = true;
      signal.textContent = "";  // the next signal is new words, read out again
    }
    if (at.signal && at.signal !== lastSignal) { chime(at.signal === "change" ? 3 : 1); }
    lastSignal = at.signal;
  }

  // A beep made with WebAudio (no sound file to download); browsers allow it only after
  // a click, hence the button.
  function chime(times) {
    if (!chimeOn || !audio) { return; }
    for (var i = 0; i < times; i += 1) {
      var start = audio.currentTime + i * 0.45;
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = i % 2 ? 660 : 880;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.4, start + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.4);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + 0.42);
    }
  }

  // "Reconnecting…" is a status: its words are put in as it is shown (and only then), so
  // it is read out once when the network drops, not at every retry.
  var offlineText = el("board-offline").textContent;
  el("board-offline").textContent = "";
  function setOffline(offline) {
    var badge = el("board-offline");
    if (offline === !badge.hidden) { return; }
    badge.hidden = !offline;
    badge.textContent = offline ? offlineText : "";
    root.classList.toggle("board-stale", offline);
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    var headers = etag ? { "If-None-Match": '"' + etag + '"' } : {};
    fetch(url, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 304) { return null; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (fresh) {
        failures = 0;
        setOffline(false);
        if (fresh) {
          state = fresh;
          etag = fresh.etag;
          offset = Date.parse(fresh.server_time) - Date.now();
          render();
        }
        schedule(pollMs);
      })
      .catch(function () {
        failures += 1;
        setOffline(true);
        schedule(Math.min(maxBackoffMs, pollMs * Math.pow(2, failures - 1)));
      });
  }

  el("board-chime").addEventListener("click", function () {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) { audio = new Context(); }
    chimeOn = !chimeOn;
    // A toggle button: one label ("Chime"), its state in aria-pressed (a label that
    // changed too would read "Turn chime off, pressed").
    this.setAttribute("aria-pressed", chimeOn ? "true" : "false");
    this.classList.toggle("primary", chimeOn);  // and on screen: filled, with a tick
    this.querySelector(".chime-mark").textContent = chimeOn ? "✓ " : "";
    if (chimeOn) { chime(1); }
  });
  el("board-fullscreen").addEventListener("click", function () {
    if (document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () {});
    }
  });
  window.addEventListener("online", function () { schedule(0); });
  var resized = null;
  window.addEventListener("resize", function () {
    clearTimeout(resized);
    resized = setTimeout(paginate, 200);
  });
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(paginate); }

  render();
  setInterval(tick, 1000);
  setInterval(turnPage, PAGE_MS);
  schedule(pollMs);
}());
