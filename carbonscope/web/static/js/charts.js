/* Draws the charts of a page from the JSON in <script id="chart-data">. Each canvas names its chart. */
(function () {
  "use strict";
  var el = document.getElementById("chart-data");
  if (!el || typeof Chart === "undefined") return;
  var data = JSON.parse(el.textContent);
  var colors = { issued: "#2f7d4f", retired: "#d08a2c", cancelled: "#9b3b3b", remaining: "#4a78b5", buffer: "#7b6aa8", retired_or_cancelled: "#d08a2c" };
  var fmt = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
  function options(yTitle) {  // a fresh object per chart: Chart.js keeps the one it is given
    var o = {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "index", intersect: false },
      scales: { y: { ticks: { callback: function (v) { return fmt.format(v); } } } },
      plugins: { legend: { position: "bottom" } }
    };
    if (yTitle) {
      o.scales.y = { stacked: true, title: { display: true, text: yTitle }, ticks: { precision: 0 } };
      o.scales.x = { stacked: true };
    }
    return o;
  }
  function bars(canvas, labels, series, yTitle) {
    var chart = new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: series.map(function (s) {
        return { label: s.label, data: s.values, backgroundColor: s.color || colors[s.key] || "#888", stack: s.stack };
      }) },
      options: options(yTitle)
    });
    canvas.dataset.drawn = "true";
    canvas.dataset.points = String(labels.length);
    return chart;
  }
  // A chart the server configured (web/charts.py): labels, series named in words, their unit
  function configured(canvas, cfg) {
    var unit = cfg.unit || "";
    var chart = new Chart(canvas, {
      type: "bar",
      data: { labels: cfg.labels, datasets: cfg.series.map(function (s, i) {
        return { label: s.label, data: s.values, backgroundColor: colors[s.key] || palette[i % palette.length],
                 stack: cfg.stacked ? "s" : undefined };
      }) },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { stacked: !!cfg.stacked, beginAtZero: true, title: { display: true, text: unit },
               ticks: { precision: 0, callback: function (v) { return fmt.format(v); } } },
          x: { stacked: !!cfg.stacked, title: { display: !!cfg.axis, text: cfg.axis || "" } }
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { label: function (ctx) {
            return ctx.dataset.label + ": " + full.format(ctx.parsed.y) + " " + unit;
          } } }
        }
      }
    });
    canvas.dataset.drawn = "true";
    canvas.dataset.points = String(cfg.labels.length);
    canvas.dataset.unit = unit;
    return chart;
  }
  var palette = ["#2f7d4f", "#d08a2c", "#4a78b5", "#9b3b3b", "#7b6aa8", "#5b8c85", "#b0a24a", "#888"];
  var full = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
  var draw = {
    news_weekly: function (c) {
      var rows = data.news_weekly || [], weeks = (data.news_weeks || []).slice(), topics = [];
      rows.forEach(function (r) {
        if (weeks.indexOf(r.week) < 0) weeks.push(r.week);
        if (topics.indexOf(r.topic) < 0) topics.push(r.topic);
      });
      weeks.sort();  // every week of the span, those without news at zero
      var series = topics.map(function (t, i) {
        return { label: t, color: palette[i % palette.length], stack: "s", values: weeks.map(function (w) {
          var hit = rows.filter(function (r) { return r.week === w && r.topic === t; })[0];
          return hit ? hit.items : 0;
        }) };
      });
      bars(c, weeks, series, "items per week");
    }
  };
  document.querySelectorAll("canvas[data-chart]").forEach(function (c) {
    var name = c.dataset.chart, f = draw[name], cfg = data[name];
    if (f) f(c);
    else if (cfg && cfg.series && cfg.series.length) configured(c, cfg);
  });
})();
