// Lavalier page helpers. No third-party code: the pages load only this file.
//
// Live cards: an element with data-poll-url and data-poll-seconds is replaced, every
// data-poll-seconds, by the HTML its URL returns. The returned fragment decides whether
// polling goes on: it keeps the data-poll-url attribute while the state is still
// changing and drops it once the state is final. With data-reload-on-final, the page
// reloads at that point.
(function () {
  "use strict";

  var MIN_SECONDS = 2;
  var MAX_FAILURES = 5;

  function schedule(element, failures) {
    var seconds = Math.max(MIN_SECONDS, parseInt(element.dataset.pollSeconds, 10) || 10);
    // Back off after failures so that a server that is down is not hammered.
    var delay = seconds * 1000 * Math.pow(2, failures);
    window.setTimeout(function () { refresh(element, failures); }, delay);
  }

  function refresh(element, failures) {
    if (!element.isConnected) {
      return;
    }
    fetch(element.dataset.pollUrl, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest", Accept: "text/html" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("Polling " + element.dataset.pollUrl + " returned HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var replacement = template.content.firstElementChild;
        if (!replacement) {
          return;
        }
        element.replaceWith(replacement);
        // A card marked data-reload-on-final reloads the page once its state is final,
        // because other parts of the page (buttons, notices) depend on that state.
        if (element.dataset.reloadOnFinal && !replacement.dataset.pollUrl) {
          window.location.reload();
          return;
        }
        start(replacement);
      })
      .catch(function (error) {
        if (failures + 1 >= MAX_FAILURES) {
          console.warn("Stopped polling after repeated failures:", error.message);
          return;
        }
        schedule(element, failures + 1);
      });
  }

  function start(element) {
    if (element.dataset && element.dataset.pollUrl) {
      schedule(element, 0);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll-url]").forEach(start);
  });
})();
