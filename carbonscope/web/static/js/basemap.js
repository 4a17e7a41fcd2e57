/* Under a site or project map: a metric scale bar always, and the base map of the cs-basemap
   setting when one is set (tiles from that server; without it the Natural Earth borders drawn by
   each map are the base, and work offline). Returns true when tiles were added. */
window.csBaseMap = function (map) {
  "use strict";
  L.control.scale({ metric: true, imperial: false, position: "bottomleft" }).addTo(map);
  var m = document.querySelector('meta[name="cs-basemap"]');
  if (!m || !m.content) return false;
  map.createPane("basemap").style.zIndex = 100;
  L.tileLayer(m.content, { pane: "basemap", maxZoom: 19, attribution: m.dataset.attribution || "" }).addTo(map);
  map.getContainer().dataset.basemap = "tiles";
  return true;
};
