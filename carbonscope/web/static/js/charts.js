/* Draws the charts of a page from the JSON in <script id="chart-data">. Each canvas names its chart. */
(function () {
  "use strict";
  var el = document.getElementById("chart-data");
  if (!el || typeof Chart === "undefined") return;
  var data = JSON.parse(el.textContent);
  var colors = { issued: "#2f7d4f", retired: "#d08a2c", cancelled: "#9b3b3b", remaining: "#4a78b5", buffer: "#7b6aa8" };
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
  function yearly(rows, keyName, keys) {
    var labels = rows.map(function (r) { return r[keyName] || "unknown"; });
    return bars(this, labels, keys.map(function (k) {
      return { key: k, label: k, values: rows.map(function (r) { return r[k] || 0; }) };
    }));
  }
  var draw = {
    news_weekly: function (c) {
      var rows = data.news_weekly || [], weeks = (data.news_weeks || []).slice(), topics = [];
      rows.forEach(function (r) {
        if (weeks.indexOf(r.week) < 0) weeks.push(r.week);
        if (topics.indexOf(r.topic) < 0) topics.push(r.topic);
      });
      weeks.sort();  // every week of the span, those without news at zero
      var palette = ["#2f7d4f", "#d08a2c", "#4a78b5", "#9b3b3b", "#7b6aa8", "#5b8c85", "#b0a24a", "#888"];
      var series = topics.map(function (t, i) {
        return { label: t, color: palette[i % palette.length], stack: "s", values: weeks.map(function (w) {
          var hit = rows.filter(function (r) { return r.week === w && r.topic === t; })[0];
          return hit ? hit.items : 0;
        }) };
      });
      bars(c, weeks, series, "items per week");
    },
    by_year: function (c) { yearly.call(c, data.by_year || [], "year", ["issued", "retired", "cancelled"]); },
    by_vintage: function (c) { yearly.call(c, data.by_vintage || [], "year", ["issued", "retired", "cancelled"]); },
    project_year: function (c) { yearly.call(c, data.by_year || [], "year", ["issued", "retired", "cancelled", "buffer"]); },
    project_vintage: function (c) { yearly.call(c, data.by_vintage || [], "vintage", ["issued", "retired", "remaining"]); },
    by_registry: function (c) { yearly.call(c, data.by_registry || [], "value", ["issued", "retired", "remaining"]); },
    listings: function (c) {
      var rows = data.listings || [];
      var regs = ["VCS", "GS", "ACR", "CAR", "ART"], palette = ["#2f7d4f", "#d08a2c", "#4a78b5", "#9b3b3b", "#7b6aa8"];
      bars(c, rows.map(function (r) { return r.year; }), regs.map(function (reg, i) {
        return { label: reg, color: palette[i], stack: "s", values: rows.map(function (r) { return (r.by_registry || {})[reg] || 0; }) };
      }));
    }
  };
  document.querySelectorAll("canvas[data-chart]").forEach(function (c) {
    var f = draw[c.dataset.chart];
    if (f) f(c);
  });
})();
