/* Defect Pareto on nonconformance/pareto.html: bars (NCRs per category, largest first) and the cumulative
   percentage as a line on a 0-100 % axis. Data comes from the json_script element "pareto-data" (no inline
   script: the CSP forbids it); the table below the chart holds the same figures for screen readers. */
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("pareto-chart");
    var source = document.getElementById("pareto-data");
    if (!canvas || !source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent || "{}");
    new window.Chart(canvas, {
      data: {
        labels: data.labels || [],
        datasets: [
          { type: "bar", label: canvas.dataset.labelCount, data: data.counts || [], yAxisID: "y",
            backgroundColor: "#0b5cab", order: 2 },
          { type: "line", label: canvas.dataset.labelCumulative, data: data.cumulative || [], yAxisID: "y1",
            borderColor: "#b3261e", backgroundColor: "#b3261e", tension: 0, order: 1 }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: canvas.dataset.labelCount } },
          y1: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
                ticks: { callback: function (v) { return v + " %"; } } }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
    canvas.dataset.drawn = "true";
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
