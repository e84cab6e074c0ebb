// The leaders' dashboard (驾驶舱): fetches its figures (analytics.cockpit, as JSON) every
// data-refresh seconds and updates the numbers, the charts (ECharts setOption), the map's
// colours and the lists in place, without reloading. Data is written with textContent only.
// A failed fetch keeps the last figures and shows the stale marker.
(function () {
  "use strict";
  const root = document.getElementById("cockpit");
  if (!root) return;
  const t = root.dataset;
  const every = Math.max(2, parseInt(t.refresh, 10) || 30) * 1000;
  const fmt = new Intl.NumberFormat("zh-CN");
  const $ = (id) => document.getElementById(id);

  function node(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = String(text);
    return n;
  }
  function setText(id, value) {
    const el = $(id);
    if (el) el.textContent = value == null ? t.tNone : (typeof value === "number" ? fmt.format(value) : String(value));
  }

  // ---- charts ------------------------------------------------------------------------------
  const charts = {};
  function chart(id) {
    if (!charts[id]) {
      const el = $(id);
      if (!el || typeof echarts === "undefined") return null;
      charts[id] = echarts.init(el, "dark", { renderer: "canvas" });
    }
    return charts[id];
  }
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  const AXIS = { axisLine: { lineStyle: { color: "#475569" } }, axisLabel: { color: "#cbd5e1", fontSize: 13 },
    splitLine: { lineStyle: { color: "#1e293b" } } };

  function drawFlow(flow) {
    const c = chart("chart-flow");
    if (!c) return;
    c.setOption({
      backgroundColor: "transparent", animation: false,
      grid: { left: 36, right: 12, top: 30, bottom: 24 },
      legend: { top: 0, textStyle: { color: "#e5edf7", fontSize: 13 } },
      tooltip: { trigger: "axis" },
      xAxis: Object.assign({ type: "category", data: flow.hours }, AXIS),
      yAxis: Object.assign({ type: "value", minInterval: 1 }, AXIS),
      series: [
        { name: t.tReported, type: "bar", data: flow.reported, itemStyle: { color: "#38bdf8" } },
        { name: t.tHandled, type: "line", data: flow.handled, smooth: true, itemStyle: { color: "#fbbf24" } },
        { name: t.tClosed, type: "line", data: flow.closed, smooth: true, itemStyle: { color: "#34d399" } },
      ],
    });
  }

  function drawRates(rates) {
    const c = chart("chart-rates");
    const list = $("rate-list");
    if (!c || !list) return;
    const el = $("chart-rates");
    const w = el.clientWidth || 400, h = el.clientHeight || 200;
    const r = Math.max(30, Math.min(w / 8.6, h / 2.3));
    c.setOption({
      backgroundColor: "transparent", animation: false,
      series: rates.map((rate, i) => ({
        type: "gauge", min: 0, max: 100, radius: r, center: [((i + 0.5) * 100 / rates.length) + "%", "46%"],
        startAngle: 200, endAngle: -20, splitNumber: 4,
        progress: { show: true, width: 8, itemStyle: { color: rate.higher_is_better ? "#34d399" : "#f87171" } },
        axisLine: { lineStyle: { width: 8, color: [[1, "#1e293b"]] } },
        axisTick: { show: false }, splitLine: { show: false }, axisLabel: { show: false }, pointer: { show: false },
        title: { offsetCenter: [0, "78%"], color: "#cbd5e1", fontSize: 15 },
        detail: { offsetCenter: [0, "0%"], color: "#f8fafc", fontSize: Math.round(r / 2.6), fontWeight: "bold",
          formatter: () => (rate.value == null ? t.tNone : rate.value.toFixed(1) + "%") },
        data: [{ value: rate.value == null ? 0 : rate.value, name: rate.name }],
      })),
    }, true);
    list.replaceChildren(...rates.map((rate) => {
      const d = node("div");
      d.dataset.rate = rate.code;
      d.append(node("dt", null, rate.name), node("dd", null, rate.value == null ? t.tNone : rate.value.toFixed(1) + "%"));
      return d;
    }));
  }

  function drawDepartments(rows) {
    const c = chart("chart-departments");
    if (!c) return;
    c.setOption({
      backgroundColor: "transparent", animation: false,
      title: rows.length ? { show: false } : { show: true, text: t.tEmpty, left: "center", top: "middle",
        textStyle: { color: "#93a4bf", fontSize: 15, fontWeight: "normal" } },
      grid: { left: 8, right: 40, top: 4, bottom: 4, containLabel: true },
      xAxis: Object.assign({ type: "value", max: 100, show: false }, AXIS),
      yAxis: Object.assign({ type: "category", inverse: true, data: rows.map((r) => r.label) }, AXIS),
      series: [{ type: "bar", data: rows.map((r) => r.score), itemStyle: { color: "#38bdf8" },
        label: { show: true, position: "right", color: "#f8fafc", fontSize: 13,
          formatter: (p) => (p.value == null ? t.tNone : Number(p.value).toFixed(1)) } }],
    }, true);
  }

  // ---- lists --------------------------------------------------------------------------------
  function fillRanking(id, rows) {
    const ol = $(id);
    if (!ol) return;
    if (!rows || !rows.length) { ol.replaceChildren(node("li", "ck-empty", t.tEmpty)); return; }
    ol.replaceChildren(...rows.map((r) => {
      const li = node("li");
      li.append(node("span", "rank", r.rank), node("span", "label", r.label),
        node("span", "score", r.score == null ? t.tNone : Number(r.score).toFixed(1)));
      return li;
    }));
  }

  const seenEvents = new Set();
  let firstTicker = true;
  function fillTicker(rows) {
    const ol = $("ticker");
    if (!ol) return;
    if (!rows.length) { ol.replaceChildren(node("li", "ck-empty", t.tEmpty)); return; }
    ol.replaceChildren(...rows.map((r) => {
      const li = node("li", !firstTicker && !seenEvents.has(r.id) ? "new" : null);
      li.dataset.event = r.id;
      li.append(node("span", "t-time", r.time), node("span", "t-action", r.action),
        node("span", "t-what", r.category + " · " + r.grid));
      seenEvents.add(r.id);
      return li;
    }));
    firstTicker = false;
  }

  function fillLate(late) {
    setText("late-count", late.count);
    const body = document.querySelector("#late-list tbody");
    if (!body) return;
    body.replaceChildren(...late.cases.map((c) => {
      const tr = node("tr");
      const days = c.days_late == null ? t.tNone : (c.days_late === 0 ? t.tTodayLate : String(c.days_late));
      tr.append(node("td", null, c.register_no), node("td", null, c.category), node("td", null, c.grid),
        node("td", null, c.department), node("td", "days", days));
      return tr;
    }));
  }

  function percent(v) { return v == null ? t.tNone : v.toFixed(1) + "%"; }
  function fillDisputes(d) {
    setText("disputes-open", d.open);
    for (const r of d.by_risk) setText("disputes-risk-" + r.risk, r.count);
    setText("disputes-screening-rate", percent(d.screening_rate));
    setText("disputes-screened", d.screenings);
    setText("disputes-due", d.screenings_due);
    setText("disputes-success", percent(d.success_rate));
    setText("disputes-agreements", d.agreements);
    setText("disputes-concluded", d.concluded);
    setText("disputes-honour", percent(d.honour_rate));
    setText("disputes-follow-ups", d.follow_ups);
  }

  // ---- the map ------------------------------------------------------------------------------
  const PALETTE = ["#1e293b", "#7c2d12", "#c2410c", "#f97316", "#fde047"];
  const mapEl = $("cockpit-map");
  let map = null, layer = null, grids = {};
  if (mapEl && typeof L !== "undefined") {
    map = L.map(mapEl, { zoomControl: false, attributionControl: false, maxZoom: 19 });
    if (mapEl.dataset.tileUrl) L.tileLayer(mapEl.dataset.tileUrl, { maxZoom: 19, opacity: 0.35 }).addTo(map);
    map.setView([27.65, 113.5], 10);
  }
  function gridStyle(f) {
    const g = grids[f.properties.code] || f.properties;
    const cls = Math.max(0, Math.min(4, parseInt(g["class"], 10) || 0));
    return { color: "#334155", weight: 0.6, fillOpacity: 0.85, fillColor: PALETTE[cls] };
  }
  // the map's level: the server's choice (a province's towns), or the one picked here
  const levelEl = $("map-level");
  const askedLevel = mapEl ? mapEl.dataset.level : "";
  if (levelEl) {
    levelEl.addEventListener("change", () => {
      const q = new URLSearchParams(window.location.search);
      q.set("level", levelEl.value);
      window.location.search = q.toString();
    });
  }
  function drawMap(section) {
    if (!map || !section) return;
    grids = section.grids || {};
    if (levelEl && section.level != null) levelEl.value = String(section.level);
    if (section.geojson && !layer) {
      layer = L.geoJSON(section.geojson, { style: gridStyle,
        onEachFeature: (f, l) => {
          // a tooltip built from DOM text, never HTML from the data
          const tip = () => {
            const g = grids[f.properties.code] || f.properties;
            const box = node("div");
            box.append(node("strong", null, g.name || f.properties.name), node("br"),
              document.createTextNode(t.tCases.replace("{n}", g.cases == null ? 0 : g.cases)));
            return box;
          };
          l.bindTooltip(tip, { sticky: true });
        } }).addTo(map);
      const b = layer.getBounds();
      if (b.isValid()) map.fitBounds(b, { padding: [6, 6] });
    } else if (layer) {
      layer.setStyle(gridStyle);
    }
  }

  // ---- the loop -----------------------------------------------------------------------------
  function show(data) {
    if (data.headline) {
      for (const [code, n] of Object.entries(data.headline.today)) setText("today-" + code, n);
      for (const [code, n] of Object.entries(data.headline.total)) setText("total-" + code, n);
    }
    if (data.flow) {
      setText("flow-reported", data.flow.totals.reported);
      setText("flow-handled", data.flow.totals.handled);
      setText("flow-closed", data.flow.totals.closed);
      drawFlow(data.flow);
    }
    if (data.ticker) fillTicker(data.ticker);
    if (data.rates) drawRates(data.rates);
    if (data.rankings) {
      drawDepartments(data.rankings.departments);
      fillRanking("grids-top", data.rankings.grids_top);
      fillRanking("grids-bottom", data.rankings.grids_bottom);
    }
    if (data.late) fillLate(data.late);
    if (data.disputes) fillDisputes(data.disputes);
    if (data.map) drawMap(data.map);
    for (const name of data.unavailable || []) root.dataset["missing" + name[0].toUpperCase() + name.slice(1)] = "1";
    setText("updated-time", data.time);
    root.dataset.updated = data.as_of;
  }

  let rounds = 0;
  function tick() {
    // the outlines once (the first answer), then numbers only
    const q = new URLSearchParams();
    if (!layer) q.set("geometry", "1");
    if (askedLevel) q.set("level", askedLevel);
    const url = t.url + (q.toString() ? "?" + q.toString() : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then((data) => {
        show(data);
        $("stale").hidden = true;
        delete root.dataset.stale;
        rounds += 1;
        root.dataset.rounds = String(rounds);
      })
      .catch(() => { $("stale").hidden = false; root.dataset.stale = "1"; })
      .finally(() => { window.setTimeout(tick, every); });
  }
  tick();
})();
