// The patrol coverage map: the basic grid's outline, the period's patrol tracks, and its
// buildings green (passed within the period) or red (not passed). Data comes from the
// page's JSON (json_script "coverage-data"): no inline script (CSP).
(function () {
  "use strict";
  const el = document.getElementById("coverage-map");
  const source = document.getElementById("coverage-data");
  if (!el || !source || typeof L === "undefined") return;
  const data = JSON.parse(source.textContent);
  const map = L.map(el, { attributionControl: false });
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  const outline = L.geoJSON(data.grid, {
    style: { color: "#334155", weight: 2, fillOpacity: 0.04 },
  }).addTo(map);
  // the view first: vector layers added to a map without one cannot be projected
  map.fitBounds(outline.getBounds());
  data.tracks.forEach(function (t) {
    if (t.points.length < 2) return;
    // text, not HTML: names are user data (a string tooltip would be parsed as HTML)
    const tip = document.createElement("span");
    tip.textContent = t.worker + " " + t.started + " · " + t.distance_m + " m";
    L.polyline(t.points, { color: "#1d4ed8", weight: 3, opacity: 0.6 })
      .bindTooltip(tip).addTo(map);
  });
  data.buildings.forEach(function (b) {
    const colour = b.passed ? "#16a34a" : "#dc2626";
    const marker = L.circleMarker([b.lat, b.lng], {
      radius: 7, color: "#1e293b", weight: 1, fillColor: colour, fillOpacity: 0.9,
    });
    const tip = document.createElement("span");
    tip.textContent = b.name + (b.last ? " · " + b.last : "");
    marker.bindTooltip(tip).addTo(map);
  });
  el.dataset.ready = "1";
})();
