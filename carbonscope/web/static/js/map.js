/* A map from the JSON in <script id="map-data">: a highlighted country, or a choropleth of values.
   Country shapes are Natural Earth (world-atlas, installed from npm and served locally); no base tiles. */
(function () {
  "use strict";
  var el = document.getElementById("map-data"), box = document.getElementById("map");
  if (!el || !box || typeof L === "undefined" || typeof topojson === "undefined") return;
  var d = JSON.parse(el.textContent);
  var byNumeric = {};
  Object.keys(d.countries || {}).forEach(function (a2) {
    var num = (d.numeric || {})[a2];
    if (num) byNumeric[String(Number(num))] = { code: a2, value: d.countries[a2] };
  });
  var values = Object.keys(byNumeric).map(function (k) { return byNumeric[k].value; });
  var max = Math.max.apply(null, values.concat([1]));
  var ramp = ["#e8f3ec", "#c2e0cc", "#8cc7a2", "#52a577", "#2f7d4f", "#1c5232"];
  function color(v) {
    if (!v) return "#f2f2f2";
    var t = Math.log(1 + v) / Math.log(1 + max);
    return ramp[Math.min(ramp.length - 1, Math.floor(t * ramp.length))];
  }
  function unwrap(f) {
    var g = f.geometry;
    if (!g) return;
    var polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    var east = false, west = false;
    polys.forEach(function (p) { p.forEach(function (ring) { ring.forEach(function (pt) { if (pt[0] > 150) east = true; if (pt[0] < -150) west = true; }); }); });
    if (!(east && west)) return;
    polys.forEach(function (p) { p.forEach(function (ring) { ring.forEach(function (pt) { if (pt[0] < 0) pt[0] += 360; }); }); });
  }
  var file = d.focus ? "/static/vendor/countries-50m.json" : "/static/vendor/countries-110m.json";
  var map = L.map(box, { attributionControl: true, zoomControl: true, worldCopyJump: false, minZoom: 1 });
  map.attributionControl.setPrefix("Natural Earth via world-atlas");
  // one project's country or a proposal's site: over the base map when one is set (a choropleth keeps its fills)
  var tiled = (d.focus || d.boundary) && window.csBaseMap ? window.csBaseMap(map) : false;
  fetch(file).then(function (r) { return r.json(); }).then(function (topo) {
    var geo = topojson.feature(topo, topo.objects.countries);
    // No projects in Antarctica; and rings that cross the antimeridian (Russia, Fiji) are shifted
    // east so that Leaflet does not draw them across the whole map.
    geo.features = geo.features.filter(function (f) { return String(f.id) !== "010"; });
    geo.features.forEach(unwrap);
    var focusLayer = null;
    var layer = L.geoJSON(geo, {
      style: function (f) {
        var hit = byNumeric[String(Number(f.id))];
        if (tiled) return { weight: 0.8, color: "#666", fillOpacity: hit && !d.boundary ? 0.25 : 0, fillColor: "#2f7d4f" };
        if (d.focus) return { weight: 0.5, color: "#999", fillOpacity: 1, fillColor: hit ? "#2f7d4f" : "#f2f2f2" };
        return { weight: 0.5, color: "#999", fillOpacity: 1, fillColor: color(hit && hit.value) };
      },
      onEachFeature: function (f, lyr) {
        var hit = byNumeric[String(Number(f.id))];
        var name = (f.properties && f.properties.name) || "";
        if (hit && d.focus) focusLayer = lyr;
        lyr.bindTooltip(name + (hit && !d.focus ? ": " + hit.value.toLocaleString("en") + " credits issued" : ""));
        if (hit && !d.focus) lyr.on("click", function () { window.location.href = "/projects?country=" + encodeURIComponent(hit.code); });
      }
    }).addTo(map);
    var site = d.boundary ? L.geoJSON(d.boundary, { style: { color: "#d08a2c", weight: 2, fillOpacity: 0.35 } }).addTo(map) : null;
    if (site) map.fitBounds(site.getBounds(), { maxZoom: 14, padding: [20, 20] });
    else if (focusLayer) map.fitBounds(focusLayer.getBounds(), { maxZoom: 6, padding: [20, 20] });
    else map.fitBounds([[-55, -170], [75, 180]]);
    box.dataset.site = site ? "true" : "false";
    box.dataset.drawn = "true";
    box.dataset.features = String(geo.features.length);
    box.dataset.highlighted = String(Object.keys(byNumeric).length);
    var legend = document.getElementById("map-legend");
    if (legend && !d.focus) legend.textContent = "Darker: more credits issued (log scale, up to " + max.toLocaleString("en") + "). Click a country to list its projects.";
  });
})();
