// The case page's small map: the case's basic grid and the reported point.
(function () {
  "use strict";
  const el = document.getElementById("case-map");
  if (!el || typeof L === "undefined") return;
  const point = JSON.parse(document.getElementById("case-point").textContent);
  const grid = JSON.parse(document.getElementById("case-grid").textContent);
  const map = L.map(el, { attributionControl: false });
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  const shape = L.geoJSON(grid, { style: { color: "#1d4ed8", weight: 2, fillOpacity: 0.08 } }).addTo(map);
  map.fitBounds(shape.getBounds());
  if (point) L.circleMarker(point, { radius: 8, color: "#dc2626", fillOpacity: 0.8 }).addTo(map);
})();
