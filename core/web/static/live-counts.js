// Keeps the counters on a page up to date without reloading: polls the
// section's /counts.json (cacheable, cheap) every 30 s while the page is
// visible. Pages work without it; this only refreshes the numbers.
(function () {
  "use strict";
  var INTERVAL = 30000;
  var nodes = document.querySelectorAll("[data-count]");
  if (!nodes.length || !window.fetch) { return; }
  var locale = document.documentElement.lang || undefined;
  var format = function (n) { return new Intl.NumberFormat(locale).format(n); };

  function value(data, key) {
    // key: "section", "world", "case:<id>:section" or "case:<id>:world"
    var parts = key.split(":");
    if (parts[0] !== "case") { return data[parts[0]]; }
    var c = data.cases[parts[1]];
    return c ? c[parts[2]] : undefined;
  }

  function refresh() {
    if (document.hidden) { return; }
    fetch("/counts.json", { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        nodes.forEach(function (node) {
          var n = value(data, node.getAttribute("data-count"));
          if (typeof n !== "number") { return; }
          if (node.tagName === "PROGRESS") {
            node.value = Math.min(n, Number(node.max));
          } else if (node.textContent !== format(n)) {
            node.textContent = format(n);
          }
        });
      })
      .catch(function () { /* offline: keep the last numbers */ });
  }

  setInterval(refresh, INTERVAL);
  document.addEventListener("visibilitychange", refresh);
}());
