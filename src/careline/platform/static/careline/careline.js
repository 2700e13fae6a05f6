/* Careline staff UI: automatic logoff notice and htmx edge cases. No dependencies. */
(function () {
  "use strict";

  var body = document.body;
  var seconds = Number(body.dataset.inactivitySeconds || 0);
  var loginUrl = body.dataset.loginUrl || "";

  /* Automatic logoff: after `seconds` without activity, load the page again; the server
     (InactivityLogoutMiddleware) has ended the session and answers with the sign-in page. */
  if (seconds > 0) {
    var warnBefore = Math.min(60, Math.floor(seconds / 2));
    var notice = document.getElementById("inactivity-notice");
    var countdown = notice && notice.querySelector("[data-countdown]");
    var lastActivity = Date.now();
    var markActive = function () {
      lastActivity = Date.now();
      if (notice && !notice.hidden) notice.hidden = true;
    };
    ["keydown", "pointerdown", "wheel", "touchstart"].forEach(function (name) {
      document.addEventListener(name, markActive, { passive: true, capture: true });
    });
    document.addEventListener("htmx:afterRequest", markActive);
    window.setInterval(function () {
      var idle = (Date.now() - lastActivity) / 1000;
      var left = Math.ceil(seconds - idle);
      if (left <= 0) {
        window.location.assign(window.location.pathname);
      } else if (left <= warnBefore && notice) {
        countdown.textContent = String(left);
        notice.hidden = false;
      }
    }, 1000);
  }

  /* A partial answered with the sign-in page (the session ended): show it whole. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var url = event.detail.xhr && event.detail.xhr.responseURL;
    if (loginUrl && url && new URL(url).pathname === loginUrl) {
      event.detail.shouldSwap = false;
      window.location.assign(url);
    }
  });

  /* A server error (5xx) is not swapped in; say so instead of failing silently. */
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var banner = document.getElementById("request-error");
    if (banner && status >= 500) banner.hidden = false;
  });
  document.addEventListener("htmx:sendError", function () {
    var banner = document.getElementById("request-error");
    if (banner) banner.hidden = false;
  });
})();
