// Progressive enhancements of the amendment pages. Every page works without this file:
// - the proposal form's preview follows the text while you type (the same server preview
//   the "Preview changes" button asks for, after a pause in typing);
// - supporting or withdrawing support updates the page without a reload;
// - the time zone setting offers this device's zone in one tap (data-device-zone on its form
//   holds the button's words).
// On any error the page falls back to the normal form submission.
// Words it says come from the page, in the reader's language: the .live-status element's
// data-preview-updated and data-saved attributes (English when a template does not set them).
(function () {
  "use strict";

  var PREVIEW_DELAY = 700; // milliseconds of quiet typing before asking for a preview

  function parse(html) {
    return new DOMParser().parseFromString(html, "text/html");
  }

  // The status line of a form or box, and the sentence it keeps for ``key`` (a data-* attribute).
  function said(container, key, fallback) {
    var status = container.querySelector(".live-status");
    return (status && status.dataset[key]) || fallback;
  }

  function announce(container, message) {
    var status = container.querySelector(".live-status");
    if (status) {
      status.textContent = message;
    }
  }

  // ---------------------------------------------------------------- live preview
  function livePreview(form) {
    var body = form.querySelector("textarea[name=body]");
    var heading = form.querySelector("input[name=heading]");
    var actions = form.querySelector(".actions");
    if (!body || !actions) {
      return;
    }
    var timer = null;
    var pending = null;

    function refresh() {
      var data = new FormData(form);
      data.set("action", "preview");
      if (pending) {
        pending.abort();
      }
      pending = new AbortController();
      fetch(form.getAttribute("action") || window.location.href, {
        method: "POST", body: data, credentials: "same-origin", signal: pending.signal,
        headers: {"X-Requested-With": "fetch"}
      }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (!html) {
          return;
        }
        var fresh = parse(html).getElementById("preview");
        if (!fresh) {
          return;
        }
        var current = document.getElementById("preview");
        if (current) {
          current.replaceWith(fresh);
        } else {
          actions.parentNode.insertBefore(fresh, actions);
        }
        announce(form, said(form, "previewUpdated", "Preview updated."));
      }).catch(function () { /* aborted or offline: the button still works */ });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, PREVIEW_DELAY);
    }

    body.addEventListener("input", schedule);
    if (heading) {
      heading.addEventListener("input", schedule);
    }
  }

  // ------------------------------------------------------------- support in place
  function liveSupport(box) {
    box.addEventListener("submit", function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) {
        return;
      }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = true;
      }
      var landed = null; // the page the server sent us to, once it has taken the change
      // getAttribute: the form has a field named "action", which form.action would return instead.
      fetch(form.getAttribute("action"), {method: "POST", body: new FormData(form), credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          landed = response.url;
          return response.text();
        })
        .then(function (html) {
          var fresh = parse(html).querySelector("[data-live-support]");
          if (!fresh) {
            throw new Error("no support section");
          }
          box.replaceWith(fresh);
          liveSupport(fresh);
          var next = fresh.querySelector("button[type=submit]");
          if (next) {
            next.focus();
          }
          var count = fresh.querySelector("p");
          announce(fresh, said(fresh, "saved", "Saved.") + " " + (count ? count.textContent.trim() : ""));
        })
        .catch(function () {
          if (landed) {
            window.location.assign(landed); // the change is made: show the page that says so
          } else {
            HTMLFormElement.prototype.submit.call(form); // not sent or refused: the ordinary way shows what happened
          }
        });
    });
  }

  // ------------------------------------------------------ this device's time zone
  function deviceZone(form) {
    var select = form.querySelector("select[name=timezone]");
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!select || !zone || select.value === zone) {
      return;
    }
    var option = Array.prototype.find.call(select.options, function (o) { return o.value === zone; });
    if (!option) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = form.dataset.deviceZone + " " + option.textContent;
    button.addEventListener("click", function () {
      select.value = zone;
      button.remove();
      select.focus();
    });
    select.insertAdjacentElement("afterend", button);
  }

  document.querySelectorAll("form[data-live-preview]").forEach(livePreview);
  document.querySelectorAll("form[data-device-zone]").forEach(deviceZone);
  document.querySelectorAll("[data-live-support]").forEach(liveSupport);
})();
