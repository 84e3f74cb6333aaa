// Live regions: parts of a page that follow the server without a reload. Every page is whole without
// this file (a reload shows the same); it only saves the reload.
//
// Markup (templates/live/_macros.html):
//   <p class="visually-hidden" aria-live="polite" data-live-announcer
//      data-live-stream="/live/stream" data-live-poll="/live/poll" data-live-poll-seconds="5"></p>
//   <div data-live-topic="amendment:12 frame:1" data-live-fragment="/d/x/amendments/12/live"
//        data-live-part="supporters" data-live-since="1234">...</div>
// - One EventSource for all the topics of the page. A notice says only "topic changed"; the regions that
//   follow it fetch their fragment (same origin, the reader's cookie: their own rights) and take its
//   content. Regions that share a fragment address are served by one fetch: each takes the element of
//   its data-live-part from the answer (without data-live-part, the whole answer).
// - Focus and scroll stay where they are: a region being typed in waits until focus leaves it; a focused
//   link or button is found again in the new content (by id, name or place); a region above the visible
//   part of the page keeps what the reader sees from moving.
// - A fragment root's data-live-summary is said by the page's one polite announcer.
// - A region with data-live-content="projector:1" takes that topic's fragment from the notice itself (a
//   "content" event: the topic on the first line, the HTML after it), rendered once by the server for every
//   follower: nothing is fetched. A fetch it was waiting for from an earlier notice is dropped.
// - Without EventSource, when the stream keeps failing, or when the server has no room for it (a "busy"
//   event), the page asks /live/poll every few seconds instead.
(function () {
  "use strict";

  var DEBOUNCE = 250; // milliseconds to gather a burst of notices into one fetch
  var SPREAD = 400; // at most this many more, at random: 200 pages do not all ask in the same millisecond
  var FAILURES_BEFORE_POLLING = 3; // stream errors in a row (never opened in between) before polling

  var announcer = document.querySelector("[data-live-announcer]");
  var regions = Array.prototype.slice.call(document.querySelectorAll("[data-live-topic]"));
  if (!announcer || !regions.length || !window.fetch) {
    return;
  }
  var streamUrl = announcer.getAttribute("data-live-stream");
  var pollUrl = announcer.getAttribute("data-live-poll");
  var pollSeconds = parseFloat(announcer.getAttribute("data-live-poll-seconds")) || 5;

  var topics = [];
  var contentTopics = [];
  var since = null;
  regions.forEach(function (region) {
    (region.getAttribute("data-live-content") || "").split(/\s+/).forEach(function (topic) {
      if (topic && contentTopics.indexOf(topic) < 0) {
        contentTopics.push(topic);
      }
    });
    region.getAttribute("data-live-topic").split(/\s+/).forEach(function (topic) {
      if (topic && topics.indexOf(topic) < 0) {
        topics.push(topic);
      }
    });
    var mark = region.getAttribute("data-live-since");
    if (mark && /^\d+$/.test(mark) && (since === null || Number(mark) < Number(since))) {
      since = mark;
    }
  });

  function query(extra, withContent) {
    var parts = topics.map(function (topic) {
      return "topic=" + encodeURIComponent(topic);
    });
    if (withContent) {
      contentTopics.forEach(function (topic) {
        parts.push("content=" + encodeURIComponent(topic));
      });
    }
    if (extra) {
      parts.push(extra);
    }
    return "?" + parts.join("&");
  }

  // ---------------------------------------------------------------- refreshing regions
  var dirty = []; // regions waiting for their fragment
  var timer = null;
  var busy = false;

  function follows(region, topic, attribute) {
    return (" " + region.getAttribute(attribute || "data-live-topic") + " ").indexOf(" " + topic + " ") >= 0;
  }

  function later(a, b) {
    return a === null || a === undefined ? b : (b === null || b === undefined ? a : String(Math.max(Number(a), Number(b))));
  }

  // A plain notice (id: the event's, if any): the regions that follow its topic fetch their fragment soon.
  function changed(topic, id) {
    regions.forEach(function (region) {
      if (follows(region, topic)) {
        region.liveWaitingFor = later(region.liveWaitingFor, id);
        if (dirty.indexOf(region) < 0) {
          dirty.push(region);
        }
      }
    });
    schedule();
  }

  // A notice that brings its topic's fragment: taken at once by the regions that asked for it (a region being
  // typed in waits, and fetches); regions that follow the topic without asking for its content fetch.
  function brought(topic, id, html) {
    var parsed = null;
    var said = [];
    regions.forEach(function (region) {
      if (!follows(region, topic)) {
        return;
      }
      if (!follows(region, topic, "data-live-content") || typingIn(region)) {
        changed(topic, id);
        return;
      }
      parsed = parsed || new DOMParser().parseFromString("<!doctype html><body>" + html, "text/html").body;
      var summary = take(region, parsed);
      if (summary) {
        said.push(summary);
      }
      // Rendered after every notice before it: a fetch waiting for one of those would bring nothing newer.
      var waiting = dirty.indexOf(region);
      if (waiting >= 0 && id && region.liveWaitingFor && Number(region.liveWaitingFor) <= Number(id)) {
        dirty.splice(waiting, 1);
      }
    });
    if (said.length) {
      say(said.join(" "));
    }
  }

  function schedule() {
    if (timer === null && !busy && dirty.length) {
      timer = window.setTimeout(refresh, DEBOUNCE + Math.random() * SPREAD);
    }
  }

  function typingIn(region) {
    var active = document.activeElement;
    return active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
  }

  function refresh() {
    timer = null;
    var now = [];
    var later = [];
    dirty.forEach(function (region) {
      (typingIn(region) ? later : now).push(region);
    });
    dirty = later;
    later.forEach(function (region) {
      region.addEventListener("focusout", function again() {
        region.removeEventListener("focusout", again);
        window.setTimeout(schedule, 0);
      });
    });
    var byUrl = {};
    now.forEach(function (region) {
      var url = region.getAttribute("data-live-fragment");
      (byUrl[url] = byUrl[url] || []).push(region);
    });
    var urls = Object.keys(byUrl);
    if (!urls.length) {
      return;
    }
    busy = true;
    var said = [];
    Promise.all(urls.map(function (url) {
      return fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null) {
            return;
          }
          var parsed = new DOMParser().parseFromString("<!doctype html><body>" + html, "text/html").body;
          byUrl[url].forEach(function (region) {
            var summary = take(region, parsed);
            if (summary) {
              said.push(summary);
            }
          });
        })
        .catch(function () { /* offline or refused: the next notice asks again */ });
    })).then(function () {
      busy = false;
      if (said.length) {
        say(said.join(" "));
      }
      schedule();
    });
  }

  // The new content of a region from the parsed answer; its summary when something changed, else null.
  function take(region, parsed) {
    var part = region.getAttribute("data-live-part");
    var source = part ? parsed.querySelector('[data-live-part="' + part + '"]') : parsed;
    if (!source) {
      return null;
    }
    var html = source.innerHTML.trim();
    if (html === region.innerHTML.trim()) {
      return null;
    }
    var root = part ? source : source.firstElementChild;
    replace(region, html);
    return (root && root.getAttribute("data-live-summary")) ||
      ((region.firstElementChild && region.firstElementChild.getAttribute("data-live-summary")) || null);
  }

  function focusables(region) {
    return Array.prototype.slice.call(region.querySelectorAll("a[href], button, input, select, textarea, [tabindex]"));
  }

  function replace(region, html) {
    var active = document.activeElement;
    var held = active && active !== region && region.contains(active) ? {
      id: active.id, name: active.getAttribute("name"), tag: active.tagName, href: active.getAttribute("href"),
      text: active.textContent.trim(), index: focusables(region).indexOf(active)
    } : null;
    var before = region.getBoundingClientRect();
    region.innerHTML = html;
    // A region wholly above what the reader sees: what they see must not move when it grows or shrinks.
    if (before.bottom <= 0) {
      var moved = region.getBoundingClientRect().bottom - before.bottom;
      if (moved) {
        window.scrollBy(0, moved);
      }
    }
    if (held) {
      // The same element again: by id, by name, by where it leads or what it says, else by its place.
      var again = (held.id && document.getElementById(held.id)) ||
        (held.name && region.querySelector(held.tag + '[name="' + held.name + '"]')) ||
        focusables(region).filter(function (element) {
          return element.tagName === held.tag && (held.href ? element.getAttribute("href") === held.href :
            element.textContent.trim() === held.text);
        })[0] ||
        focusables(region)[held.index];
      if (!again || !region.contains(again)) {
        // Nothing like it any more: focus stays in the region, where the reader was, never elsewhere.
        region.setAttribute("tabindex", "-1");
        again = region;
      }
      again.focus({preventScroll: true});
    }
  }

  function say(message) {
    // Emptied first, so the same words said twice are announced twice.
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = message;
    }, 100);
  }

  // ---------------------------------------------------------------- hearing about changes
  var polling = false;

  function poll() {
    if (polling) {
      return;
    }
    polling = true;
    function ask() {
      fetch(pollUrl + query(since !== null ? "since=" + since : ""), {credentials: "same-origin"})
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (answer) {
          if (answer) {
            since = String(answer.id);
            answer.changed.forEach(function (topic) {
              changed(topic, null);
            });
          }
        })
        .catch(function () { /* offline: ask again later */ })
        .then(function () {
          window.setTimeout(ask, pollSeconds * 1000);
        });
    }
    ask();
  }

  function listen() {
    if (!window.EventSource || !streamUrl) {
      poll();
      return;
    }
    var failures = 0;
    var source = new EventSource(streamUrl + query(since !== null ? "since=" + since : "", true));
    source.onopen = function () {
      failures = 0;
    };
    source.onmessage = function (event) {
      since = later(since, event.lastEventId || null);
      changed(event.data, event.lastEventId || null);
    };
    source.addEventListener("content", function (event) {
      since = later(since, event.lastEventId || null);
      var data = String(event.data);
      var end = data.indexOf("\n");
      brought(end < 0 ? data : data.slice(0, end), event.lastEventId || null, end < 0 ? "" : data.slice(end + 1));
    });
    // No room for a stream on this server: ask every few seconds instead.
    source.addEventListener("busy", function () {
      source.close();
      poll();
    });
    source.onerror = function () {
      failures += 1;
      // CLOSED: the server refused and the browser will not retry; or it keeps failing.
      if (source.readyState === EventSource.CLOSED || failures >= FAILURES_BEFORE_POLLING) {
        source.close();
        poll();
      }
    };
  }

  listen();
}());
