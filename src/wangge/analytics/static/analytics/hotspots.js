// 热点分析: the choropleth of case density per basic grid, the heat layer (leaflet.heat) and
// the repeat-location clusters, all fetched as JSON from /api/v1/analytics/hotspots….
// Every text that comes from data is put in with textContent; nothing is built as HTML.
(function () {
  "use strict";
  const el = document.getElementById("hotspot-map");
  const form = document.getElementById("hotspot-filters");
  if (!el || !form) return;
  const api = form.dataset.api;
  const t = {
    legend: el.dataset.tLegend, none: el.dataset.tNone, cases: el.dataset.tCases,
    perKm2: el.dataset.tPerKm2, cluster: el.dataset.tCluster,
  };
  const errorBox = document.getElementById("hotspot-error");
  const summary = document.getElementById("hotspot-summary");
  const clusterBody = document.querySelector("#cluster-table tbody");
  const clusterEmpty = document.getElementById("cluster-empty");
  const densityBody = document.querySelector("#density-table tbody");
  const heatToggle = document.getElementById("heat-toggle");
  // class 0 (no case) then the four quartiles of the grids with cases, light to dark
  const PALETTE = ["#f1f5f9", "#fde68a", "#fb923c", "#ef4444", "#991b1b"];
  const TOP_GRIDS = 20;

  const map = L.map(el, { attributionControl: false, maxZoom: 19 });
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  map.setView([27.65, 113.5], 10);
  let grids = null;
  let heat = null;
  const circles = L.layerGroup().addTo(map);
  let classes = [];
  let fittedFor = null;
  let generation = 0;

  const node = wanggeMap.node;

  function params(extra) {
    const q = new URLSearchParams();
    ["from", "to", "category", "grid"].forEach((k) => {
      const v = form.elements[k].value;
      if (v) q.set(k, v);
    });
    Object.entries(extra || {}).forEach(([k, v]) => q.set(k, v));
    return q.toString();
  }

  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => r.json().catch(() => ({})).then((body) => {
        if (r.ok) return body;
        const d = body && body.detail;
        const msg = Array.isArray(d) ? d.map((e) => e.msg).join("；") : (d || String(r.status));
        throw new Error(msg);
      }));
  }

  function fmt(x) {
    return Number(x).toLocaleString("zh-CN", { maximumFractionDigits: 2 });
  }
  function when(iso) {
    const d = new Date(iso);
    const p = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate());
  }

  // -- legend -----------------------------------------------------------------------------
  function fillLegend(legendBox) {
    legendBox.replaceChildren(node("p", "legend-title", t.legend));
    const list = node("ul", "legend-scale");
    classes.forEach((c) => {
      const li = wanggeMap.swatch(PALETTE[c["class"]], c["class"] === 0 ? t.none
        : (c.min === c.max ? fmt(c.min) : fmt(c.min) + "–" + fmt(c.max)));
      li.dataset.class = c["class"];
      list.appendChild(li);
    });
    legendBox.appendChild(list);
  }
  const legend = wanggeMap.legend(map, fillLegend);
  function drawLegend() {
    legend.redraw();
  }

  // -- the choropleth and the density table ------------------------------------------------
  function popupFor(p) {
    const box = node("div", "grid-popup");
    box.appendChild(node("strong", null, p.name));
    box.appendChild(node("div", null, p.code));
    box.appendChild(node("div", null, t.cases + " " + p.cases + " · " + fmt(p.per_km2) + " " + t.perKm2));
    return box;
  }

  function drawGrids(data) {
    if (grids) grids.remove();
    classes = data.classes || [];
    grids = L.geoJSON(data, {
      style: (f) => ({ color: "#475569", weight: 0.8, opacity: 0.9, fillOpacity: 0.7,
        fillColor: PALETTE[f.properties["class"]] || PALETTE[0] }),
      onEachFeature: (f, layer) => layer.bindPopup(() => popupFor(f.properties)),
    }).addTo(map);
    grids.bringToBack();
    drawLegend();
    const key = form.elements.grid.value || "*";
    if (fittedFor !== key && data.features.length) {
      map.fitBounds(grids.getBounds(), { padding: [10, 10] });
      fittedFor = key;
    }
    el.dataset.count = String(data.features.length);
    densityBody.replaceChildren();
    data.features.filter((f) => f.properties.cases > 0).slice(0, TOP_GRIDS).forEach((f) => {
      const p = f.properties;
      const tr = node("tr");
      [p.name, p.code, p.cases, fmt(p.area_km2), fmt(p.per_km2)].forEach((v) => tr.appendChild(node("td", null, v)));
      densityBody.appendChild(tr);
    });
    summary.textContent = t.cases + " " + data.total;
  }

  // -- clusters ----------------------------------------------------------------------------
  function drawClusters(list) {
    circles.clearLayers();
    clusterBody.replaceChildren();
    clusterEmpty.hidden = list.length > 0;
    list.forEach((c, i) => {
      const circle = L.circle([c.lat, c.lng], { radius: Math.max(c.radius_m, 30), color: "#7c3aed",
        weight: 2, fillOpacity: 0.15 });
      circle.bindPopup(() => {
        const box = node("div");
        box.appendChild(node("strong", null, t.cluster + " " + (i + 1)));
        box.appendChild(node("div", null, c.category_name + " · " + c.count));
        return box;
      });
      circles.addLayer(circle);
      const tr = node("tr");
      tr.dataset.lat = c.lat;
      tr.dataset.lng = c.lng;
      tr.appendChild(node("td", null, i + 1));
      tr.appendChild(node("td", null, c.category_name));
      tr.appendChild(node("td", null, c.count));
      tr.appendChild(node("td", null, fmt(c.radius_m)));
      tr.appendChild(node("td", null, when(c.first)));
      tr.appendChild(node("td", null, when(c.last)));
      const cell = node("td", "cases");
      c.cases.forEach((k) => {
        let item;
        if (k.url) {
          item = node("a", null, k.register_no);
          item.href = k.url;
        } else {
          item = node("span", null, k.register_no);
        }
        item.title = k.title + " · " + k.state_label;
        cell.appendChild(item);
      });
      tr.appendChild(cell);
      tr.addEventListener("click", (ev) => {
        if (ev.target.closest("a")) return;
        clusterBody.querySelectorAll("tr.picked").forEach((r) => r.classList.remove("picked"));
        tr.classList.add("picked");
        map.setView([c.lat, c.lng], Math.max(map.getZoom(), 16));
        circle.openPopup();
      });
      clusterBody.appendChild(tr);
    });
    el.dataset.clusters = String(list.length);
  }

  // -- heat --------------------------------------------------------------------------------
  function drawHeat(gen) {
    if (!heatToggle.checked) {
      if (heat) { heat.remove(); heat = null; }
      el.dataset.heat = "off";
      return Promise.resolve();
    }
    return getJSON(api + "/heat?" + params()).then((data) => {
      if (gen !== generation) return;
      if (heat) heat.remove();
      heat = L.heatLayer(data.points, { radius: 18, blur: 15, maxZoom: 16 }).addTo(map);
      el.dataset.heat = String(data.points.length);
    });
  }

  function downloads() {
    document.querySelectorAll("a.download").forEach((a) => {
      const path = a.dataset.table === "clusters" ? "/clusters" : "";
      a.href = api + path + "?" + params({ format: a.dataset.format });
    });
  }

  function load() {
    const gen = ++generation;
    showError("");
    el.dataset.state = "loading";
    downloads();
    return Promise.all([
      getJSON(api + "?" + params()).then((d) => { if (gen === generation) drawGrids(d); }),
      getJSON(api + "/clusters?" + params()).then((d) => { if (gen === generation) drawClusters(d); }),
      drawHeat(gen),
    ]).then(() => { if (gen === generation) el.dataset.state = "ready"; })
      .catch((e) => { if (gen === generation) { el.dataset.state = "error"; showError(e.message); } });
  }

  form.querySelectorAll(".quick button").forEach((b) => b.addEventListener("click", () => {
    form.elements.from.value = b.dataset.from;
    form.elements.to.value = b.dataset.to;
    form.querySelectorAll(".quick button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
    load();
  }));
  ["from", "to", "category", "grid"].forEach((k) => form.elements[k].addEventListener("change", () => {
    if (k === "from" || k === "to") {
      form.querySelectorAll(".quick button").forEach((x) => x.setAttribute("aria-pressed", "false"));
    }
    load();
  }));
  heatToggle.addEventListener("change", () => {
    const gen = generation;
    drawHeat(gen).catch((e) => showError(e.message));
  });
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  load();
})();
