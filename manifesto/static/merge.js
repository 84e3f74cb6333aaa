// The merge workspace: save the draft every few seconds while the moderator works (the page works without it).
(function () {
  "use strict";
  var form = document.getElementById("merge-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var status = document.querySelector("[data-merge-status]");
  var url = form.getAttribute("data-autosave");
  var dirty = false, busy = false, stopped = false;
  var INTERVAL = 5000;

  function say(text) { if (status) { status.textContent = text; } }

  function save() {
    if (!dirty || busy || stopped) { return; }
    busy = true;
    dirty = false;
    var data = new FormData(form);
    data.delete("action");
    var token = form.querySelector("input[name=csrf_token]");
    fetch(url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-CSRFToken": token ? token.value : "", "Accept": "application/json"}
    }).then(function (response) {
      return response.json().then(function (answer) { return {ok: response.ok, answer: answer}; });
    }).then(function (result) {
      if (result.ok && result.answer.saved) {
        form.querySelector("input[name=revision]").value = result.answer.revision;
        var discard = document.querySelector("form input[name=revision]:not(#revision)");
        if (discard) { discard.value = result.answer.revision; }
      } else {
        stopped = true;  // someone took over, the section moved on or the page is old: the form still submits
      }
      say(result.answer.message);
    }).catch(function () {
      dirty = true;  // offline for a moment: try again at the next tick
    }).then(function () { busy = false; });
  }

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  window.setInterval(save, INTERVAL);
})();
