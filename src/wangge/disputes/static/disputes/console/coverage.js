// 排查覆盖: the basic grids in scope coloured by their screening return for the month
// (screened with tensions / nil return / missing), the legend in the map's corner
// (web/maplegend.js). Data from the page's json_script "screening-data" (CSP: no inline
// script); names go in as text, never as HTML.
(function () {
  "use strict";
  const el = document.getElementById("screening-map");
  const source = document.getElementById("screening-data");
  if (!el || !source || typeof L === "undefined") return;
  const data = JSON.parse(source.textContent);
  const COLOURS = { screened: "#2563eb", nil: "#16a34a", missing: "#dc2626" };
  const t = { legend: el.dataset.tLegend, screened: el.dataset.tScreened,
    nil: el.dataset.tNil, missing: el.dataset.tMissing };
  const node = wanggeMap.node;
  const map = L.map(el, { attributionControl: false, maxZoom: 19 });
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  const layer = L.geoJSON(data, {
    style: (f) => ({ color: "#334155", weight: 0.8, opacity: 0.9, fillOpacity: 0.6,
      fillColor: COLOURS[f.properties.status] || COLOURS.missing }),
    onEachFeature: (f, lyr) => lyr.bindPopup(() => {
      const box = node("div", "grid-popup");
      box.appendChild(node("strong", null, f.properties.name));
      box.appendChild(node("div", null, f.properties.code));
      box.appendChild(node("div", null, t[f.properties.status] || ""));
      return box;
    }),
  });
  layer.addTo(map);
  if (data.features.length) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
  else map.setView([27.65, 113.5], 10);
  wanggeMap.legend(map, (box) => {
    box.replaceChildren(node("p", "legend-title", t.legend));
    const list = node("ul", "legend-scale");
    ["screened", "nil", "missing"].forEach((k) => {
      const li = wanggeMap.swatch(COLOURS[k], t[k]);
      li.dataset.status = k;
      list.appendChild(li);
    });
    box.appendChild(list);
  });
  el.dataset.count = String(data.features.length);
  el.dataset.state = "ready";
})();
