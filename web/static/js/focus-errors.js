// A form sent back with mistakes: the cursor goes to the first field to fix, as if the
// user had tabbed to it, and that field is scrolled to the middle of the screen. One rule
// for every page: the first visible control in <main> marked aria-invalid="true"; a
// group (a fieldset of checkboxes) is focused as a whole, so its legend and its error
// are read. Only when no such control shows (a form-wide error, a refused change), the
// error summary (.form-errors with role="alert") is focused instead.
// A form with an error summary listing more than one mistake (templates/_forms.html,
// error_summary): the summary is focused, at the top, so the reader learns of all of them
// first; its links take the cursor to each field (the field in the middle of the screen).
// `autofocus` is not enough: browsers skip it when the address ends in #fragment, as
// the participant's report and survey forms do.
(function () {
  'use strict';

  var NATIVE = /^(INPUT|SELECT|TEXTAREA|BUTTON)$/;
  // Controls and groups of controls; not the marked cells of an import preview table.
  var INVALID = ['input', 'select', 'textarea', 'fieldset', '[role="group"]', '[role="radiogroup"]']
    .map(function (s) { return s + '[aria-invalid="true"]'; }).join(', ');

  function shown(el) {
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) &&
      !el.closest('[hidden], [inert]');
  }

  function usable(el) {
    if (!shown(el)) return false;
    if (NATIVE.test(el.tagName)) return !el.disabled && (el.type || '').toLowerCase() !== 'hidden';
    return true;
  }

  function target() {
    var main = document.querySelector('main');
    if (!main) return null;
    var summary = main.querySelector('.error-summary');
    if (summary && shown(summary) && Number(summary.getAttribute('data-entries')) > 1) return summary;
    var invalid = main.querySelectorAll(INVALID);
    for (var i = 0; i < invalid.length; i += 1) {
      if (usable(invalid[i])) return invalid[i];
    }
    var banner = main.querySelector('.form-errors[role="alert"]');
    return banner && shown(banner) ? banner : null;
  }

  function focusFirstError() {
    var el = target();
    if (!el) return;
    var active = document.activeElement;
    // Someone already moved on (typed or clicked) while the page loaded: leave them be.
    if (active && active !== document.body && active !== el && !active.hasAttribute('autofocus')) return;
    if (!NATIVE.test(el.tagName) && !el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
    give(el);
    // The browser's own jump to #fragment comes later, and takes the focus away (to the
    // fragment's element, or to nothing): once the page has loaded, give it back.
    function again() {
      var now = document.activeElement;
      if (now === el) { center(el); return; }
      if (!now || now === document.body || now === document.documentElement) give(el);
    }
    window.addEventListener('load', function () {
      again();
      window.requestAnimationFrame(function () { window.setTimeout(again, 0); });
    }, { once: true });
  }

  function give(el) {
    el.focus({ preventScroll: true });
    center(el);
  }

  // A field in the middle of the screen; an error summary just into view (it is near the
  // top of the page, under the page's heading).
  function center(el) {
    var block = el.classList.contains('error-summary') ? 'nearest' : 'center';
    el.scrollIntoView({ block: block, inline: 'nearest' });
  }

  // A link of the error summary: the cursor to its field (a group as a whole), without
  // changing the address, as the browser's own jump to #id would not focus every target.
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('.error-summary a[href^="#"]');
    if (!link) return;
    var field = document.getElementById(decodeURIComponent(link.getAttribute('href').slice(1)));
    if (!field) return;
    event.preventDefault();
    if (!NATIVE.test(field.tagName) && !field.hasAttribute('tabindex')) field.setAttribute('tabindex', '-1');
    field.focus({ preventScroll: true });
    // A group taller than most of the screen (the technology picker) from its top, so
    // that its legend, the question, shows.
    var tall = field.getBoundingClientRect().height > window.innerHeight * 0.8;
    if (tall) field.scrollIntoView({ block: 'start', inline: 'nearest' });
    else center(field);
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', focusFirstError);
  } else {
    focusFirstError();
  }
})();
