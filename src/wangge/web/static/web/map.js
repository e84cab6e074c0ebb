// Console map: the grid tree, drilled down level by level.
// Grids come from the session-authenticated API, which returns only what the user may see.
(function () {
  "use strict";
  const el = document.getElementById("map");
  if (!el) return;
  const api = el.dataset.api;
  const panelUrl = el.dataset.panel;
  const crumbs = document.getElementById("crumbs");
  const map = L.map(el, { zoomControl: true, attributionControl: false, doubleClickZoom: false });
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  map.setView([27.65, 113.5], 10);

  const styleFor = (f) => ({
    color: "#1d4ed8", weight: 1.5, fillOpacity: 0.12,
    fillColor: f.properties.kind === "urban" ? "#f97316" : "#2563eb",
  });
  let layer = null;
  let selected = null;
  const trail = []; // [{code, name}] from the top of the user's scope down

  function textNode(text) {
    const span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span;
  }

  function showPanel(code) {
    htmx.ajax("GET", panelUrl + encodeURIComponent(code) + "/", { target: "#panel", swap: "innerHTML" });
  }

  function renderCrumbs() {
    crumbs.replaceChildren();
    const top = document.createElement("button");
    top.type = "button"; top.textContent = el.dataset.allLabel; top.className = "crumb";
    top.addEventListener("click", () => { trail.length = 0; load(api + "grids/top.geojson"); renderCrumbs(); });
    crumbs.appendChild(top);
    trail.forEach((c, i) => {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = c.name; b.className = "crumb";
      b.addEventListener("click", () => { trail.length = i + 1; drill(c.code, false); });
      crumbs.appendChild(b);
    });
  }

  function drill(code, push, name) {
    return load(api + "grids/" + encodeURIComponent(code) + "/children.geojson").then((data) => {
      if (push) {
        const f = selectedFeature(code);
        trail.push({ code: code, name: name || (f ? f.properties.name : code) });
      }
      renderCrumbs();
      showPanel(code);
      return data;
    });
  }

  function selectedFeature(code) {
    return lastFeatures[code] || null;
  }
  const lastFeatures = {};

  function load(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then((data) => {
        if (!data.features.length) return data;
        if (layer) layer.remove();
        data.features.forEach((f) => { lastFeatures[f.properties.code] = f; });
        layer = L.geoJSON(data, {
          style: styleFor,
          onEachFeature: (f, l) => {
            // A DOM node, never a string: Leaflet writes string content as HTML, and a
            // grid's name is data (a center role can set it to anything).
            l.bindTooltip(textNode(f.properties.name), { sticky: true });
            l.on("click", () => {
              if (selected) layer.resetStyle(selected);
              selected = l;
              l.setStyle({ weight: 3, fillOpacity: 0.3 });
              showPanel(f.properties.code);
            });
            l.on("dblclick", () => { if (f.properties.level < 4) drill(f.properties.code, true); });
          },
        }).addTo(map);
        el.dataset.level = String(data.features[0].properties.level);
        el.dataset.count = String(data.features.length);
        map.invalidateSize();  // the container may have been laid out after L.map()
        map.fitBounds(layer.getBounds(), { padding: [10, 10] });
        return data;
      });
  }

  document.getElementById("panel").addEventListener("click", (ev) => {
    const b = ev.target.closest("button.drill");
    if (b) drill(b.dataset.code, true, b.dataset.name);
  });

  renderCrumbs();
  // One top grid with children (the city for center staff, a town for its sub-center):
  // open it straight away. A grid worker's single basic grid stays as it is.
  load(api + "grids/top.geojson").then((data) => {
    if (data.features.length !== 1) return;
    const top = data.features[0].properties;
    if (top.level < 4) drill(top.code, true); else showPanel(top.code);
  });
})();
