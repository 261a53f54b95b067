/* Scorecard trend on the supplier page: score and lot acceptance rate per site, last 12 months.
   Data comes from the canvas's data-chart attribute (no inline script: the CSP forbids it). */
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("scorecard-chart");
    if (!canvas || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(canvas.dataset.chart || "{}");
    var colours = ["#0b5cab", "#137333", "#8a5300", "#b3261e"];
    var datasets = [];
    (data.series || []).forEach(function (s, i) {
      var c = colours[i % colours.length];
      datasets.push({ label: canvas.dataset.labelScore + " " + s.site, data: s.score, borderColor: c, backgroundColor: c,
                      spanGaps: true, tension: 0.2 });
      datasets.push({ label: canvas.dataset.labelLar + " " + s.site, data: s.lar, borderColor: c, backgroundColor: c,
                      borderDash: [6, 4], spanGaps: true, tension: 0.2, pointStyle: "rect" });
    });
    new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels || [], datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { suggestedMin: 50, max: 100 } }, plugins: { legend: { position: "bottom" } } }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
