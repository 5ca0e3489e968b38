// codex-route's charts: every <canvas data-chart="NAME"> is drawn by Chart.js from the
// config NAME in the page's JSON block <script type="application/json" id="chart-data">
// (built by codex_router/dashboard/series.py). No inline script: the page's CSP allows
// only files from the app itself, and the JSON block is data, never run.
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("chart-data");
    if (!block || typeof Chart === "undefined") {
      return;
    }
    var configs = JSON.parse(block.textContent);
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) {
      var canvas = canvases[i];
      var config = configs[canvas.getAttribute("data-chart")];
      if (config) {
        new Chart(canvas, config); // Chart.getChart(canvas) finds it again
      }
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
