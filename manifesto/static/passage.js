/* Comment on a passage by selecting its words.
 *
 * Without this script the comment form's "passage" field takes words copied
 * from the text; with it, selecting words in the section's text offers a
 * button that fills the field, plus the words just before and after the
 * selection (so the server can tell repeated words apart). The server checks
 * everything again: this only saves typing. The button's words come from the
 * page, in the reader's language: the hint's data-button, data-quote-open and
 * data-quote-close attributes.
 */
(function () {
  "use strict";

  var CONTEXT = 32; // characters of prefix and suffix, as the server keeps them

  var text = document.getElementById("section-text");
  if (!text || !text.dataset.commentForm) { return; }
  var form = document.getElementById(text.dataset.commentForm);
  var hint = document.getElementById("passage-hint");
  if (!form || !hint) { return; }
  var quoteField = form.querySelector("[name=quote]");
  var prefixField = form.querySelector("[name=quote_prefix]");
  var suffixField = form.querySelector("[name=quote_suffix]");
  var bodyField = form.querySelector("[name=body]");
  if (!quoteField) { return; }

  /** Read runs of whitespace as one space, as the server does. */
  function squeeze(value) {
    return value.replace(/\s+/g, " ");
  }

  /** The text of the section between two points, leaving out the numbered links to comments. */
  function textBetween(startNode, startOffset, endNode, endOffset) {
    var range = document.createRange();
    range.setStart(startNode, startOffset);
    range.setEnd(endNode, endOffset);
    var walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
    var parts = [];
    var node;
    while ((node = walker.nextNode())) {
      if (!range.intersectsNode(node)) { continue; }
      if (node.parentElement && node.parentElement.closest(".passage-ref")) { continue; }
      var from = node === range.startContainer ? range.startOffset : 0;
      var to = node === range.endContainer ? range.endOffset : node.data.length;
      parts.push(node.data.slice(from, to));
    }
    return parts.join("");
  }

  /** The selection inside the section's text, as quote, prefix and suffix; null when there is none. */
  function selected() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) { return null; }
    var range = selection.getRangeAt(0);
    if (!text.contains(range.startContainer) || !text.contains(range.endContainer)) { return null; }
    var quote = squeeze(textBetween(range.startContainer, range.startOffset, range.endContainer, range.endOffset)).trim();
    if (!quote) { return null; }
    var before = squeeze(textBetween(text, 0, range.startContainer, range.startOffset)).replace(/^ /, "");
    var after = squeeze(textBetween(range.endContainer, range.endOffset, text, text.childNodes.length)).replace(/ $/, "");
    return { quote: quote, prefix: before.slice(-CONTEXT), suffix: after.slice(0, CONTEXT) };
  }

  var current = null;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "passage-button";
  var label = document.createElement("span");
  hint.appendChild(button);
  hint.appendChild(label);
  button.textContent = hint.dataset.button || "Comment on the selected words";

  function update() {
    var found = selected();
    if (!found) {
      // Moving to the button may clear the selection: keep what it will use.
      if (document.activeElement !== button) { hint.hidden = true; }
      return;
    }
    current = found;
    var shown = current.quote.length > 80 ? current.quote.slice(0, 77) + "…" : current.quote;
    // Quotation marks of the reader's language (data-quote-open="«&nbsp;" in French), else English ones.
    label.textContent = " " + (hint.dataset.quoteOpen || "“") + shown + (hint.dataset.quoteClose || "”");
    hint.hidden = false;
  }

  // Keep the selection when the button is pressed with a mouse.
  button.addEventListener("mousedown", function (event) { event.preventDefault(); });
  button.addEventListener("click", function () {
    if (!current) { return; }
    quoteField.value = current.quote;
    if (prefixField) { prefixField.value = current.prefix; }
    if (suffixField) { suffixField.value = current.suffix; }
    hint.hidden = true;
    form.scrollIntoView({ block: "start" });
    (bodyField || quoteField).focus();
  });

  // A quote typed or edited by hand has no browser context: drop the stale one.
  quoteField.addEventListener("input", function () {
    if (prefixField) { prefixField.value = ""; }
    if (suffixField) { suffixField.value = ""; }
  });

  var pending = null;
  document.addEventListener("selectionchange", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(update, 150);
  });
})();
