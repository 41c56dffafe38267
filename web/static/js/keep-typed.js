// Switching the language reloads the page, which would lose what was typed into its
// forms. Just before the switch, every form that was typed into (a field differs from
// what the page was served with) or that came back with a mistake to fix (it shows
// what was typed, which a fresh page would not) is kept in this tab's sessionStorage;
// on the page the switch leads to (within a minute), the form with the same action and
// fields gets them back. Passwords, files and hidden fields (the CSRF token) are never kept.
(function () {
  'use strict';
  var KEY = 'matchfair.typed';
  var MAX_AGE_MS = 60 * 1000;

  function kept(el) {
    if (!el.name || el.disabled) return false;
    var type = (el.type || '').toLowerCase();
    return ['hidden', 'password', 'file', 'submit', 'button', 'reset', 'image'].indexOf(type) === -1;
  }

  function changed(el) {
    var type = (el.type || '').toLowerCase();
    if (type === 'checkbox' || type === 'radio') return el.checked !== el.defaultChecked;
    if (el.tagName === 'SELECT') {
      return Array.prototype.some.call(el.options, function (o) {
        return o.selected !== o.defaultSelected;
      });
    }
    return el.value !== el.defaultValue;
  }

  // What tells a form apart from the others of the page: its action and the names of its
  // fields (an accept and a decline form share an action, not their fields).
  function formKey(form) {
    var names = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (kept(el) && names.indexOf(el.name) === -1) names.push(el.name);
    });
    // form.action is the address it posts to, resolved: with the page's own address
    // (participant token, company id) for a form that names none.
    return form.action + '|' + names.sort().join(',');
  }

  function formsOnPage() {
    return Array.prototype.filter.call(document.forms, function (f) {
      return !f.classList.contains('lang-switch') && f.closest('main');
    });
  }

  function remember() {
    var forms = [];
    formsOnPage().forEach(function (form, index) {
      var fields = [];
      var typed = !!form.querySelector('[aria-invalid="true"], .errors, .form-errors');
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!kept(el)) return;
        typed = typed || changed(el);
        var type = (el.type || '').toLowerCase();
        if (type === 'checkbox' || type === 'radio') {
          fields.push({ name: el.name, value: el.value, checked: el.checked });
        } else if (el.tagName === 'SELECT') {
          fields.push({ name: el.name, selected: Array.prototype.filter.call(el.options, function (o) {
            return o.selected; }).map(function (o) { return o.value; }) });
        } else {
          fields.push({ name: el.name, text: el.value });
        }
      });
      if (typed && fields.length) forms.push({ key: formKey(form), index: index, fields: fields });
    });
    try {
      if (forms.length) {
        var next = switcher && switcher.querySelector('input[name=next]');
        sessionStorage.setItem(KEY, JSON.stringify({
          at: Date.now(), page: next ? next.value : '', forms: forms }));
      } else {
        sessionStorage.removeItem(KEY);
      }
    } catch (e) { /* storage full or disabled: the switch goes ahead */ }
  }

  function restore() {
    var saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(KEY) || 'null');
      sessionStorage.removeItem(KEY);
    } catch (e) { return; }
    if (!saved || !saved.forms || Date.now() - saved.at > MAX_AGE_MS) return;
    // Only on the page the switch leads to: never into another page opened meanwhile
    // (the switch failed, the tab went elsewhere), which may be another company's.
    if (saved.page !== location.pathname + location.search) return;
    var forms = formsOnPage();
    saved.forms.forEach(function (entry) {
      // The form with the same action and fields; if several are alike, none is guessed
      // at unless it is the one at the same place in the page.
      var same = forms.filter(function (f) { return formKey(f) === entry.key; });
      var form = same.length === 1 ? same[0] : forms[entry.index];
      if (!form || formKey(form) !== entry.key) return;
      entry.fields.forEach(function (field) {
        Array.prototype.forEach.call(form.elements, function (el) {
          if (el.name !== field.name || !kept(el)) return;
          var type = (el.type || '').toLowerCase();
          if (type === 'checkbox' || type === 'radio') {
            if (el.value === field.value) el.checked = field.checked;
          } else if (el.tagName === 'SELECT' && field.selected) {
            Array.prototype.forEach.call(el.options, function (o) {
              o.selected = field.selected.indexOf(o.value) !== -1;
            });
          } else if ('text' in field) {
            el.value = field.text;
          } else {
            return;
          }
          el.dispatchEvent(new Event('input', { bubbles: true }));
          el.dispatchEvent(new Event('change', { bubbles: true }));
        });
      });
    });
  }

  var switcher = document.querySelector('form.lang-switch');
  if (switcher) switcher.addEventListener('submit', remember);
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', restore);
  } else {
    restore();
  }
}());
