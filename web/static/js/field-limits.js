// A browser cuts text pasted into a field with a maxlength at the limit, without a word:
// the end of a long note is lost unseen. Long text fields (notes, reasons, comments) let
// everything in instead and count it: near the limit the count shows, over it the field
// says by how much, and the server refuses it with the text kept, as for any mistake.
// The words come from this script tag's data attributes, in the page's language.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script) return;
  var LONG = 200;  // shorter limits (codes, names) are plain to see while typing
  var near = script.dataset.near || '{count} / {max}';
  var over = script.dataset.over || '{over} too many';

  function words(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  // Characters as the server counts them: one for a character outside the BMP (𠮷 in a
  // name, an emoji), which .length counts as two UTF-16 units; one for a line break
  // (a textarea's value has LF, the server reads the CRLF it is sent as LF).
  function characters(text) {
    return Array.from(text).length;
  }

  function watch(field) {
    var max = parseInt(field.getAttribute('maxlength'), 10);
    if (!(max >= LONG)) return;
    field.removeAttribute('maxlength');
    field.dataset.limit = String(max);
    var counter = document.createElement('small');
    counter.className = 'hint field-count';
    counter.id = (field.id || field.name) + '-count';
    counter.setAttribute('aria-live', 'polite');
    field.insertAdjacentElement('afterend', counter);
    var described = field.getAttribute('aria-describedby');
    field.setAttribute('aria-describedby', (described ? described + ' ' : '') + counter.id);
    function update() {
      var count = characters(field.value);
      if (count > max) {
        counter.textContent = words(over, { over: count - max, max: max });
        counter.classList.add('over');
      } else if (count >= max * 0.8) {
        counter.textContent = words(near, { count: count, max: max });
        counter.classList.remove('over');
      } else {
        counter.textContent = '';
        counter.classList.remove('over');
      }
    }
    field.addEventListener('input', update);
    update();
  }

  document.querySelectorAll('textarea[maxlength], input[type=text][maxlength]').forEach(watch);
}());
