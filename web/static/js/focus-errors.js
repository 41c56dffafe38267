// A form sent back with mistakes: the cursor goes to the first field to fix, as if the
// user had tabbed to it, and that field is scrolled to the middle of the screen. One rule
// for every page: the first visible control in <main> marked aria-invalid="true"; a
// group (a fieldset of checkboxes) is focused as a whole, so its legend and its error
// are read. Only when no such control shows (a form-wide error, a refused change), the
// error summary (.form-errors with role="alert") is focused instead.
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
    var invalid = main.querySelectorAll(INVALID);
    for (var i = 0; i < invalid.length; i += 1) {
      if (usable(invalid[i])) return invalid[i];
    }
    var summary = main.querySelector('.form-errors[role="alert"]');
    return summary && shown(summary) ? summary : null;
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

  function center(el) {
    el.scrollIntoView({ block: 'center', inline: 'nearest' });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', focusFirstError);
  } else {
    focusFirstError();
  }
})();
