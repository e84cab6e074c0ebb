// Console map: the grid tree, drilled down level by level, without a tile server.
// Grids come from the session-authenticated API, which returns only what the user may see;
// their colour is the number of open or late cases in each (/api/v1/map/…), and the open
// cases of the grid being viewed are clustered markers.
// Data is never handed to Leaflet as HTML: labels, popups and icons are DOM nodes filled
// with textContent (a grid's name or a case title is data a user typed).
(function () {
  "use strict";
  const el = document.getElementById("map");
  if (!el) return;
  const api = el.dataset.api;
  const panelUrl = el.dataset.panel;
  const crumbs = document.getElementById("crumbs");
  // interface words, translated by the template (data-t-* attributes)
  const t = {
    late: el.dataset.tLate, open: el.dataset.tOpen, colourBy: el.dataset.tColourBy,
    latePin: el.dataset.tLatePin, openPin: el.dataset.tOpenPin,
    casesAll: el.dataset.tCasesAll, casesSome: el.dataset.tCasesSome,
    casesFailed: el.dataset.tCasesFailed, showPins: el.dataset.tShowPins,
  };
  // maxZoom: the marker clusters need one even without a tile layer
  const map = L.map(el, { zoomControl: true, attributionControl: false, doubleClickZoom: false,
    maxZoom: 19 });
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  map.setView([27.65, 113.5], 10);

  // Sequential classes, light to dark; the legend shows the same colours.
  const PALETTE = {
    open: ["#f1f5f9", "#dbeafe", "#93c5fd", "#3b82f6", "#1d4ed8"],
    late: ["#f1f5f9", "#fee2e2", "#fca5a5", "#ef4444", "#b91c1c"],
  };
  let mode = el.dataset.mode === "open" ? "open" : "late";
  let pinsShown = true;
  let counts = {}; // code -> {open, late}
  let maxima = { open: 0, late: 0 };
  let layer = null;
  // grid names: one permanent label per grid at its label point (inside the polygon), not a
  // hover tooltip — a phone has no hover
  // (their own pane: above the grids, below the case markers, so a cluster stays tappable)
  map.createPane("gridLabels").style.zIndex = "550";
  const labels = L.layerGroup().addTo(map);
  let labelOf = new Map();
  let selected = null;
  let current = null; // the grid whose children are shown: {code, name, level}
  const trail = []; // [{code, name}] from the top of the user's scope down to `current`
  const lastFeatures = {};

  const node = wanggeMap.node;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => { if (!r.ok) throw new Error(r.status + " " + url); return r.json(); });
  }

  // -- colour classes and legend ---------------------------------------------------------
  // Five classes: 0, then four equal steps up to the largest count on screen.
  function bounds(max) {
    const step = Math.max(1, Math.ceil(max / 4));
    return [1, 1 + step, 1 + 2 * step, 1 + 3 * step];
  }
  function classOf(n, max) {
    if (!n) return 0;
    const b = bounds(max);
    let c = 1;
    for (let i = 1; i < b.length; i++) if (n >= b[i]) c = i + 1;
    return c;
  }
  function styleFor(f) {
    const c = counts[f.properties.code] || { open: 0, late: 0 };
    return {
      color: "#1e3a8a", weight: 1.2, opacity: 0.9, fillOpacity: 0.7,
      fillColor: PALETTE[mode][classOf(c[mode], maxima[mode])],
    };
  }

  const legend = wanggeMap.legend(map, fillLegend);
  function drawLegend() {
    legend.redraw();
  }
  function fillLegend(legendBox) {
    legendBox.replaceChildren();
    const switcher = node("div", "legend-modes");
    switcher.setAttribute("role", "group");
    switcher.setAttribute("aria-label", t.colourBy);
    ["late", "open"].forEach((m) => {
      const b = node("button", "legend-mode", t[m]);
      b.type = "button";
      b.dataset.mode = m;
      b.setAttribute("aria-pressed", String(m === mode));
      b.addEventListener("click", () => { mode = m; el.dataset.mode = m; restyle(); drawLegend(); });
      switcher.appendChild(b);
    });
    legendBox.appendChild(switcher);
    const list = node("ul", "legend-scale");
    const b = bounds(maxima[mode]);
    const ranges = [[0, 0]];
    for (let i = 0; i < b.length; i++) {
      const hi = i + 1 < b.length ? b[i + 1] - 1 : maxima[mode];
      if (b[i] <= maxima[mode]) ranges.push([b[i], Math.max(b[i], hi)]);
    }
    ranges.forEach(([lo, hi], i) => {
      list.appendChild(wanggeMap.swatch(PALETTE[mode][i], lo === hi ? String(lo) : lo + "–" + hi));
    });
    legendBox.appendChild(list);
    const pin = node("p", "legend-pins");
    pin.appendChild(node("span", "case-pin late"));
    pin.appendChild(node("span", null, t.latePin));
    pin.appendChild(node("span", "case-pin"));
    pin.appendChild(node("span", null, t.openPin));
    legendBox.appendChild(pin);
    // the markers can be put away to see the colours and names underneath
    const toggle = node("button", "legend-toggle legend-pins-toggle", t.showPins);
    toggle.type = "button";
    toggle.setAttribute("aria-pressed", String(pinsShown));
    toggle.addEventListener("click", () => {
      pinsShown = !pinsShown;
      if (pinsShown) pins.addTo(map); else pins.remove();
      drawLegend();
    });
    legendBox.appendChild(toggle);
  }

  function restyle() {
    if (!layer) return;
    layer.setStyle(styleFor);
    if (selected) selected.setStyle({ weight: 3.5, color: "#0f172a" });
  }

  // -- grid labels: shown where they fit -------------------------------------------------
  function fitLabels() {
    if (!layer) return;
    layer.eachLayer((l) => {
      const tip = labelOf.get(l);
      const box = tip && tip.getElement();
      if (!box) return;
      const b = l.getBounds();
      const ne = map.latLngToContainerPoint(b.getNorthEast());
      const sw = map.latLngToContainerPoint(b.getSouthWest());
      const w = Math.abs(ne.x - sw.x), h = Math.abs(sw.y - ne.y);
      const fits = box.offsetWidth <= w * 0.9 && box.offsetHeight <= h * 0.8;
      box.classList.toggle("label-hidden", !fits && l !== selected);
    });
  }
  map.on("zoomend moveend", fitLabels);

  // -- breadcrumb and panel --------------------------------------------------------------
  function showPanel(code) {
    // the grid tapped last wins: htmx drops a new request for #panel while one is still in
    // flight (hx-sync "drop"), so on a slow line a tap right after a drill showed the
    // drilled grid's panel, not the tapped one's; abort the earlier request instead
    htmx.trigger("#panel", "htmx:abort");
    htmx.ajax("GET", panelUrl + encodeURIComponent(code) + "/", { target: "#panel", swap: "innerHTML" });
  }

  function renderCrumbs() {
    crumbs.replaceChildren();
    const top = node("button", "crumb", el.dataset.allLabel);
    top.type = "button";
    top.addEventListener("click", () => { trail.length = 0; showTop(); });
    crumbs.appendChild(top);
    trail.forEach((c, i) => {
      crumbs.appendChild(node("span", "crumb-sep", "›"));
      const b = node("button", "crumb", c.name);
      b.type = "button";
      if (i === trail.length - 1) b.setAttribute("aria-current", "page");
      b.addEventListener("click", () => drill(c.code, c.name));
      crumbs.appendChild(b);
    });
  }

  // Open a grid: show its children. The trail is cut back to the grid when it is already on
  // it (a crumb, or 进入下一级 on the grid being viewed) — never the same grid twice.
  function drill(code, name) {
    const at = trail.findIndex((c) => c.code === code);
    const f = lastFeatures[code];
    return Promise.all([
      getJSON(api + "grids/" + encodeURIComponent(code) + "/children.geojson"),
      getJSON(api + "map/grids/" + encodeURIComponent(code) + "/children"),
    ]).then(([data, numbers]) => {
      if (!data.features.length) { showPanel(code); return data; } // a basic grid: stay
      if (at >= 0) trail.length = at + 1;
      else trail.push({ code: code, name: name || (f ? f.properties.name : code) });
      current = { code: code, level: data.features[0].properties.level - 1 };
      el.dataset.current = code;
      draw(data, numbers);
      renderCrumbs();
      showPanel(code);
      loadCases(code);
      // on a phone the panel (and its 进入下一级) sits below the map: bring the map back
      if (crumbs.getBoundingClientRect().top < 0) crumbs.scrollIntoView({ block: "start" });
      return data;
    });
  }

  function showTop() {
    return Promise.all([getJSON(api + "grids/top.geojson"), getJSON(api + "map/grids/top")])
      .then(([data, numbers]) => {
        current = null;
        el.dataset.current = "";
        draw(data, numbers);
        renderCrumbs();
        // markers for a single basic grid (a grid worker's); a larger one is drilled into
        const one = data.features.length === 1 ? data.features[0].properties : null;
        if (one && one.level >= 4) loadCases(one.code); else { casesFor = null; pins.clearLayers(); }
        return data;
      });
  }

  // -- the grids ---------------------------------------------------------------------------
  function draw(data, numbers) {
    if (!data.features.length) return;
    counts = {};
    (numbers.grids || []).forEach((g) => { counts[g.code] = g; });
    maxima = { open: numbers.max_open || 0, late: numbers.max_late || 0 };
    if (layer) layer.remove();
    selected = null;
    data.features.forEach((f) => { lastFeatures[f.properties.code] = f; });
    layer = L.geoJSON(data, {
      style: styleFor,
      onEachFeature: (f, l) => {
        const p = f.properties;
        l.on("click", () => select(l, p));
        l.on("dblclick", () => { if (p.level < 4) drill(p.code, p.name); });
      },
    }).addTo(map);
    labels.clearLayers();
    labelOf = new Map();
    layer.eachLayer((l) => {
      const p = l.feature.properties;
      l.getElement().setAttribute("data-code", p.code);
      const c = counts[p.code] || { open: 0, late: 0 };
      const text = node("span", "grid-label-text");
      text.appendChild(node("span", "grid-label-name", p.name));
      if (c.open) {
        text.appendChild(node("span", "grid-label-count" + (c.late ? " has-late" : ""),
          c.late ? c.open + " · " + t.late + " " + c.late : String(c.open)));
      }
      const at = Array.isArray(p.label) && p.label[0] != null
        ? L.latLng(p.label[1], p.label[0]) : l.getBounds().getCenter();
      const tip = L.tooltip({ permanent: true, direction: "center", className: "grid-label", opacity: 1,
        pane: "gridLabels" })
        .setLatLng(at).setContent(text);
      labels.addLayer(tip);
      labelOf.set(l, tip);
      // a name is a target too, above the case markers: tap it to choose the grid
      const box = tip.getElement();
      box.setAttribute("data-code", p.code);
      L.DomEvent.on(box, "click", (ev) => { L.DomEvent.stop(ev); select(l, p); });
      L.DomEvent.on(box, "dblclick", (ev) => { L.DomEvent.stop(ev); if (p.level < 4) drill(p.code, p.name); });
    });
    map.invalidateSize(); // the container may have been laid out after L.map()
    // no animation: the grids are where they will stay as soon as they are drawn, so a tap
    // (or a test) right after a drill never lands on a polygon still zooming into place
    map.fitBounds(layer.getBounds(), { padding: [10, 10], animate: false });
    drawLegend();
    fitLabels();
    // set last: these say the new level is drawn and placed
    el.dataset.level = String(data.features[0].properties.level);
    el.dataset.count = String(data.features.length);
  }

  function select(l, p) {
    if (selected && selected !== l) layer.resetStyle(selected);
    selected = l;
    l.setStyle({ weight: 3.5, color: "#0f172a" });
    l.bringToFront();
    el.dataset.selected = p.code;
    fitLabels(); // the selected grid's name shows even where it does not fit
    showPanel(p.code);
  }

  // -- case markers, clustered ---------------------------------------------------------
  const Cluster = L.markerClusterGroup ? L.markerClusterGroup : null;
  const pins = Cluster ? Cluster({
    showCoverageOnHover: false, maxClusterRadius: 50, spiderfyOnMaxZoom: true,
    iconCreateFunction: (cluster) => {
      const late = cluster.getAllChildMarkers().some((m) => m.options.late);
      const box = node("div");
      box.appendChild(node("span", null, cluster.getChildCount()));
      return L.divIcon({ html: box, className: "marker-cluster case-cluster" + (late ? " late" : ""),
        iconSize: L.point(40, 40) });
    },
  }) : L.layerGroup();
  pins.addTo(map);
  const casesNote = document.getElementById("map-cases-note");
  let casesFor = null;

  function popupFor(c) {
    const box = node("div", "case-popup");
    const a = node("a", "case-no", c.register_no);
    a.href = c.url;
    box.appendChild(a);
    box.appendChild(node("p", "case-title", c.title));
    box.appendChild(node("p", "case-meta", c.category + " · " + c.state_label + (c.late ? " · " + t.late : "")));
    return box;
  }

  function loadCases(code) {
    casesFor = code;
    return getJSON(api + "map/grids/" + encodeURIComponent(code) + "/cases").then((data) => {
      if (casesFor !== code) return; // the user moved on meanwhile
      pins.clearLayers();
      const markers = data.cases.map((c) => {
        const icon = L.divIcon({ className: "case-pin" + (c.late ? " late" : ""), html: "",
          iconSize: L.point(18, 18) });
        const m = L.marker([c.lat, c.lng], { icon: icon, late: c.late, keyboard: true, title: c.register_no });
        m.bindPopup(popupFor(c), { maxWidth: 260 });
        return m;
      });
      if (pins.addLayers) pins.addLayers(markers); else markers.forEach((m) => pins.addLayer(m));
      el.dataset.cases = String(markers.length);
      if (casesNote) {
        casesNote.textContent = data.truncated
          ? t.casesSome.replace("{shown}", markers.length).replace("{total}", data.total)
          : t.casesAll.replace("{total}", data.total);
      }
    }).catch(() => { if (casesNote) casesNote.textContent = t.casesFailed; });
  }

  // 进入下一级 in the panel: open the grid the panel shows (once: see drill)
  document.getElementById("panel").addEventListener("click", (ev) => {
    const b = ev.target.closest("button.drill");
    if (b) drill(b.dataset.code, b.dataset.name);
  });
  // the panel of the grid being viewed offers no 进入下一级: it is open already
  document.body.addEventListener("htmx:afterSwap", () => {
    document.querySelectorAll("#panel button.drill").forEach((b) => {
      b.hidden = current !== null && b.dataset.code === current.code;
    });
  });

  renderCrumbs();
  // One top grid with children (the city for center staff, a town for its sub-center):
  // open it straight away. A grid worker's single basic grid stays as it is.
  showTop().then((data) => {
    if (data.features.length !== 1) return;
    const top = data.features[0].properties;
    if (top.level < 4) drill(top.code, top.name); else showPanel(top.code);
  });
})();
