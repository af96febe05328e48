// The workspace's behaviour: charts (Chart.js) from data attributes, and live-update notes.
// No inline script anywhere: the Content-Security-Policy allows scripts from this server only.
(function () {
  "use strict";
  var VENDOR = "#1f5fbf";
  var PARTNER = "#b3431b";
  var COVERAGE = "#2e7d4f";

  function read(canvas, name) {
    return JSON.parse(canvas.getAttribute(name));
  }

  function line(canvas, labels, datasets, scales) {
    return new Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        spanGaps: true,
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  function series(label, color, values, axis) {
    return {
      label: label, data: values, borderColor: color, backgroundColor: color,
      pointRadius: 2, borderWidth: 2, yAxisID: axis || "y",
    };
  }

  var builders = {
    "plan-trend": function (canvas) {
      var points = read(canvas, "data-points");
      return line(canvas, points.map(function (p) { return p.as_of; }), [
        series("Vendor side", VENDOR, points.map(function (p) { return p.vendor; })),
        series("Partner side", PARTNER, points.map(function (p) { return p.partner; })),
      ], { y: { min: 0, max: 100, title: { display: true, text: "score" } } });
    },
    "portfolio-trend": function (canvas) {
      var points = read(canvas, "data-points");
      var target = parseFloat(canvas.getAttribute("data-target")) * 100;
      return line(canvas, points.map(function (p) { return p.as_of; }), [
        series("Coverage (% with an active joint plan)", COVERAGE,
          points.map(function (p) { return p.active_plan_share === null ? null : p.active_plan_share * 100; })),
        Object.assign(series("Coverage target", "#6b7280", points.map(function () { return target; })),
          { borderDash: [6, 4], pointRadius: 0 }),
        series("Mean vendor score", VENDOR, points.map(function (p) { return p.mean_score.vendor; })),
        series("Mean partner score", PARTNER, points.map(function (p) { return p.mean_score.partner; })),
      ], { y: { min: 0, max: 100, title: { display: true, text: "% / score" } } });
    },
    "distribution": function (canvas) {
      var bins = read(canvas, "data-bins");
      var labels = bins.vendor.map(function (_, i) { return (i * 10) + "–" + (i * 10 + 10); });
      return new Chart(canvas, {
        type: "bar",
        data: {
          labels: labels,
          datasets: [
            { label: "Vendor side", data: bins.vendor, backgroundColor: VENDOR },
            { label: "Partner side", data: bins.partner, backgroundColor: PARTNER },
          ],
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          scales: {
            x: { title: { display: true, text: "score" } },
            y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "partnerships" } },
          },
          plugins: { legend: { position: "bottom" } },
        },
      });
    },
  };

  function drawCharts(root) {
    if (typeof Chart === "undefined") { return; }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var build = builders[canvas.getAttribute("data-chart")];
      if (build && !canvas.dataset.drawn) {
        canvas.dataset.drawn = "yes";
        build(canvas);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    drawCharts(document);
    var note = document.querySelector(".live-note");
    if (note) {
      note.textContent = "Updated at " + new Date().toLocaleTimeString() + " — the other side acted.";
    }
    document.body.setAttribute("data-updated", String(Date.now()));
  });
})();
