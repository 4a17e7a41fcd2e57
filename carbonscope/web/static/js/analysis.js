/* An analysis' page: poll its progress until it ends (then reload for the results), draw the
   boundary with the biomass tiles and the area-of-applicability veil, and the baseline chart. */
(function () {
  "use strict";
  // inline style attributes are refused by the site's CSP: widths and colours are set from data here
  document.querySelectorAll("[data-width]").forEach(function (el) { el.style.width = el.dataset.width + "%"; });
  document.querySelectorAll("[data-ramp]").forEach(function (el) {
    el.style.background = "linear-gradient(to right, " + el.dataset.ramp + ")";
  });
  var job = document.getElementById("job");
  if (job && (job.dataset.status === "queued" || job.dataset.status === "running")) {
    var words = { queued: "Waiting for a worker", running: "Running", succeeded: "Finished", failed: "Failed", cancelled: "Cancelled" };
    var poll = function () {
      fetch("/api/v1/analyses/" + encodeURIComponent(job.dataset.id), { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          var pct = Math.round((d.progress.fraction || 0) * 100);
          document.getElementById("job-bar").style.width = pct + "%";
          document.getElementById("job-percent").textContent = String(pct);
          document.querySelector("#job .progress").setAttribute("aria-valuenow", String(pct));
          document.getElementById("job-status").textContent = words[d.status] || d.status;
          document.getElementById("job-step").textContent = d.status === "running" ? (d.progress.step || "") : "";
          if (d.status !== job.dataset.status && (d.status === "succeeded" || d.status === "failed" || d.status === "cancelled")) {
            window.location.reload();
            return;
          }
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 500);
  }

  var md = document.getElementById("map-data"), box = document.getElementById("result-map");
  if (md && box && typeof L !== "undefined") {
    var d = JSON.parse(md.textContent);
    var map = L.map(box, { minZoom: 1 });
    map.attributionControl.setPrefix("Natural Earth via world-atlas");
    var tiled = window.csBaseMap ? window.csBaseMap(map) : false;
    map.createPane("countries").style.zIndex = 150;  // below the tiles (200): the land is the base map
    fetch("/static/vendor/countries-50m.json").then(function (r) { return r.json(); }).then(function (topo) {
      L.geoJSON(topojson.feature(topo, topo.objects.countries), {
        pane: "countries", style: { weight: 0.6, color: "#888", fillColor: "#eef1ec", fillOpacity: tiled ? 0 : 1 }, interactive: false
      }).addTo(map);
    });
    var site = L.geoJSON(d.boundary, { style: { color: "#d08a2c", weight: 2, fill: false } }).addTo(map);
    map.fitBounds(site.getBounds(), { maxZoom: 15, padding: [10, 10] });
    if (d.tiles) {
      var agb = L.tileLayer("/analyses/" + d.id + "/tiles/agb/{z}/{x}/{y}.png", { maxZoom: 18, opacity: 0.9 }).addTo(map);
      agb.on("tileload", function () { box.dataset.tiles = String(Number(box.dataset.tiles || 0) + 1); });
      var veil = L.tileLayer("/analyses/" + d.id + "/tiles/aoa/{z}/{x}/{y}.png", { maxZoom: 18 });
      var toggle = document.getElementById("aoa-toggle");
      if (toggle) toggle.addEventListener("change", function () { if (toggle.checked) veil.addTo(map); else map.removeLayer(veil); });
    }
  }

  var cd = document.getElementById("chart-data"), canvas = document.getElementById("baseline-chart");
  if (cd && canvas && typeof Chart !== "undefined") {
    var c = JSON.parse(cd.textContent);
    if (!c) return;
    var colours = { average: "#2f7d4f", linear: "#d08a2c", exponential: "#5470c6", logarithmic: "#9a60b4" };
    var sets = [{ type: "scatter", label: "Historical", data: c.t.map(function (t, i) { return { x: t, y: c.y[i] }; }), backgroundColor: "#1d2521" }];
    Object.keys(c.projections).forEach(function (m) {
      var p = c.projections[m], r2 = c.r2[m];
      sets.push({
        type: "line", label: m + (r2 !== null && r2 !== undefined ? " (R² " + r2.toFixed(3) + ")" : ""),
        data: Object.keys(p).map(function (y) { return { x: Number(y), y: p[y] }; }),
        borderColor: colours[m] || "#888", borderWidth: m === c.chosen ? 4 : 1.5, pointRadius: 0
      });
    });
    new Chart(canvas, {
      data: { datasets: sets },
      options: {
        maintainAspectRatio: false, animation: false, parsing: false,
        scales: { x: { type: "linear", title: { display: true, text: "Year" }, ticks: { callback: function (v) { return String(v); } } },
                  y: { title: { display: true, text: c.unit === "tCO2e" ? "Forest carbon (t CO2e)" : c.unit } } }
      }
    });
    canvas.dataset.drawn = "true";
  }
})();
