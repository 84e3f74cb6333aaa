// The merge workspace: save the draft every few seconds while the moderator works, and show the preview of the
// ticked changes as soon as a tick changes (the page works without this file: "Preview" submits the form).
(function () {
  "use strict";
  var form = document.getElementById("merge-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var status = document.querySelector("[data-merge-status]");
  var preview = form.querySelector("[data-merge-preview]");
  var url = form.getAttribute("data-autosave");
  var dirty = false, busy = false, stopped = false;
  var ticked = false; // a tick changed since the last save: the answer brings the new preview
  var soon = null;
  var INTERVAL = 5000;
  var AFTER_TICK = 300; // milliseconds: several ticks in a row are saved (and previewed) once

  function say(text) { if (status) { status.textContent = text; } }

  // Where the moderator is working: a new preview must not take their text or their place from them.
  function workingIn(element) {
    var active = document.activeElement;
    return element && active && element.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
  }

  function save() {
    if (soon !== null) { window.clearTimeout(soon); soon = null; }
    if (!dirty || busy || stopped) { return; }
    busy = true;
    dirty = false;
    var wantPreview = ticked && preview !== null;
    ticked = false;
    var data = new FormData(form);
    data.delete("action");
    if (wantPreview) { data.append("preview", "1"); }
    var token = form.querySelector("input[name=csrf_token]");
    fetch(url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-CSRFToken": token ? token.value : "", "Accept": "application/json"}
    }).then(function (response) {
      return response.json().then(function (answer) { return {ok: response.ok, answer: answer}; });
    }).then(function (result) {
      var answer = result.answer;
      if (result.ok && answer.saved) {
        form.querySelector("input[name=revision]").value = answer.revision;
        var discard = document.querySelector("form input[name=revision]:not(#revision)");
        if (discard) { discard.value = answer.revision; }
        if (answer.preview !== undefined && !ticked && !workingIn(preview)) {
          preview.innerHTML = answer.preview;
          form.querySelector("input[name=composed]").value = answer.composed;
          say(answer.message + " · " + (form.getAttribute("data-previewed-label") || ""));
          return;
        }
      } else {
        stopped = true;  // someone took over, the section moved on or the page is old: the form still submits
      }
      say(answer.message);
    }).catch(function () {
      dirty = true;  // offline for a moment: try again at the next tick
      ticked = ticked || wantPreview;
    }).then(function () {
      busy = false;
      if (dirty && ticked) { soon = window.setTimeout(save, AFTER_TICK); }
    });
  }

  function tickChanged(target) {
    return target && target.closest && target.closest(".merge-text, .merge-heading") !== null;
  }

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function (event) {
    dirty = true;
    if (tickChanged(event.target)) {
      ticked = true;
      if (soon !== null) { window.clearTimeout(soon); }
      soon = window.setTimeout(save, AFTER_TICK);
    }
  });
  window.setInterval(save, INTERVAL);
})();
