/* The "Analyse an area" form: a map to draw the boundary on (Leaflet.draw, served locally; country
   shapes from world-atlas as the only base map: no tiles from the internet), and the layer rows
   of the chosen recipe. */
(function () {
  "use strict";
  var box = document.getElementById("draw-map"), field = document.getElementById("boundary-geojson");
  var said = document.getElementById("drawn-area"), form = document.getElementById("analyse-form");
  if (!box || !form || typeof L === "undefined") return;

  function showRows() {
    var chosen = form.querySelector("input[name=recipe]:checked");
    var name = chosen ? chosen.value : "";
    form.querySelectorAll(".layer-row").forEach(function (row) {
      var on = (" " + row.dataset.recipes).indexOf(" " + name + " ") >= 0;
      row.hidden = !on;
      row.querySelector(".req").hidden = (" " + row.dataset.required).indexOf(" " + name + " ") < 0;
    });
  }
  form.querySelectorAll("input[name=recipe]").forEach(function (r) { r.addEventListener("change", showRows); });
  showRows();

  var map = L.map(box, { minZoom: 1 }).setView([0, 0], 2);
  box.csMap = map;  // for scripts that place the view (and the browser tests)
  map.attributionControl.setPrefix("Natural Earth via world-atlas");
  var tiled = window.csBaseMap ? window.csBaseMap(map) : false;
  map.createPane("countries").style.zIndex = 150;
  fetch("/static/vendor/countries-50m.json").then(function (r) { return r.json(); }).then(function (topo) {
    L.geoJSON(topojson.feature(topo, topo.objects.countries), {
      pane: "countries", style: { weight: 0.6, color: "#888", fillColor: "#eef1ec", fillOpacity: tiled ? 0 : 1 }, interactive: false
    }).addTo(map);
  });
  var drawn = new L.FeatureGroup().addTo(map);
  function areaHa(layer) {
    var ll = layer.getLatLngs()[0], R = 6378137, s = 0;
    for (var i = 0; i < ll.length; i++) {
      var a = ll[i], b = ll[(i + 1) % ll.length];
      s += (b.lng - a.lng) * Math.PI / 180 * (2 + Math.sin(a.lat * Math.PI / 180) + Math.sin(b.lat * Math.PI / 180));
    }
    return Math.abs(s * R * R / 2) / 10000;
  }
  function record() {
    var layers = drawn.getLayers();
    if (!layers.length) { field.value = ""; said.textContent = "No area drawn yet."; box.dataset.drawn = "false"; return; }
    var layer = layers[layers.length - 1];
    field.value = JSON.stringify(layer.toGeoJSON().geometry);
    said.textContent = "Area drawn: about " + Math.round(areaHa(layer)).toLocaleString("en") + " ha.";
    box.dataset.drawn = "true";
  }
  var start = field.value || box.dataset.boundary;
  if (start) {
    try {
      var shape = L.geoJSON(JSON.parse(start), { style: { color: "#d08a2c", weight: 2 } });
      shape.eachLayer(function (l) { drawn.addLayer(l); });
      map.fitBounds(shape.getBounds(), { maxZoom: 14 });
      if (field.value) record();
    } catch (e) { field.value = ""; }
  }
  if (box.dataset.boundary) return;  // a proposal's boundary: nothing to draw
  map.addControl(new L.Control.Draw({
    draw: { polygon: { allowIntersection: false, showArea: true }, rectangle: true, polyline: false, circle: false, marker: false, circlemarker: false },
    edit: { featureGroup: drawn }
  }));
  map.on(L.Draw.Event.CREATED, function (e) { drawn.clearLayers(); drawn.addLayer(e.layer); record(); });
  map.on(L.Draw.Event.EDITED, record);
  map.on(L.Draw.Event.DELETED, record);
})();
