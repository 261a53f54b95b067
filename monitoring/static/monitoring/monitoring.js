/* Quality monitor charts: line (monthly trend) or bar (by line, defect Pareto) from the json_script element
   "monitor-charts" (no inline script: the CSP forbids it). Clicking a point opens the records behind it. */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("monitor-charts");
    if (!source || typeof window.Chart === "undefined") { return; }
    var charts = JSON.parse(source.textContent || "[]");
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var c = charts[Number(canvas.dataset.chart)];
      if (!c) { return; }
      new window.Chart(canvas, {
        type: c.type || "line",
        data: { labels: c.labels, datasets: [{ label: c.label, data: c.values, borderColor: "#0b5cab",
          backgroundColor: "#0b5cab", spanGaps: false, tension: 0 }] },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: false } },
          onClick: function (event, elements) {
            if (elements.length && c.urls[elements[0].index]) { window.location = c.urls[elements[0].index]; }
          }
        }
      });
      canvas.dataset.drawn = "true";
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
