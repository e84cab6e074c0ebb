/* ECharts wiring for the figures pages: every element with data-chart="<id>" is drawn from
 * the JSON spec in the element of that id (a json_script: {kind, title, unit, categories,
 * series: [{name, data}]}). One function per kind: bar (one value across keys), hbar (a
 * ranking, best on top), line (a trend), pie (a donut of shares).
 *
 * The Content-Security-Policy forbids inline style attributes in markup, and ECharts' HTML
 * tooltip writes them: tooltips render as rich text on the canvas instead, and every label
 * is drawn on the canvas (no data ever becomes markup).
 *
 * window.wanggeCharts.draw(el) draws one element, .update(el, spec) redraws it with new
 * data (the cockpit refreshes itself this way). */
(function () {
  "use strict";

  var PALETTE = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2",
                 "#db2777", "#65a30d", "#ea580c", "#475569"];

  function formatter(unit) {
    return function (value) {
      if (value === null || value === undefined || value === "-") { return "—"; }
      return String(value) + (unit || "");
    };
  }

  function tooltip(spec, trigger) {
    return { trigger: trigger, renderMode: "richText", confine: true,
             valueFormatter: formatter(spec.unit) };
  }

  function series(spec, type, extra) {
    return spec.series.map(function (s) {
      var out = { name: s.name, type: type, data: s.data };
      Object.keys(extra || {}).forEach(function (k) { out[k] = extra[k]; });
      return out;
    });
  }

  function legend(spec) {
    return spec.series.length > 1 ? { type: "scroll", top: 0 } : { show: false };
  }

  var KINDS = {
    bar: function (spec) {
      return {
        color: PALETTE, tooltip: tooltip(spec, "axis"), legend: legend(spec),
        grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: spec.categories,
                 axisLabel: { interval: 0, rotate: spec.categories.length > 6 ? 40 : 0,
                              width: 96, overflow: "truncate" } },
        yAxis: { type: "value", name: spec.unit || "" },
        series: series(spec, "bar", { barMaxWidth: 36 })
      };
    },
    hbar: function (spec) {
      return {
        color: PALETTE, tooltip: tooltip(spec, "axis"), legend: legend(spec),
        grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", max: 100 },
        yAxis: { type: "category", inverse: true, data: spec.categories,
                 axisLabel: { width: 110, overflow: "truncate" } },
        series: series(spec, "bar", { barMaxWidth: 22,
                                      label: { show: true, position: "right" } })
      };
    },
    line: function (spec) {
      return {
        color: PALETTE, tooltip: tooltip(spec, "axis"), legend: legend(spec),
        grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: spec.categories, boundaryGap: false },
        yAxis: { type: "value", name: spec.unit || "" },
        series: series(spec, "line", { connectNulls: false, showSymbol: spec.categories.length <= 62 })
      };
    },
    pie: function (spec) {
      var first = spec.series[0] || { name: "", data: [] };
      return {
        color: PALETTE, tooltip: tooltip(spec, "item"),
        legend: { type: "scroll", bottom: 0 },
        series: [{
          name: first.name, type: "pie", radius: ["40%", "68%"], center: ["50%", "45%"],
          data: spec.categories.map(function (name, i) {
            return { name: name, value: first.data[i] };
          }),
          label: { formatter: "{b}: {d}%" }
        }]
      };
    }
  };

  function option(spec) {
    var make = KINDS[spec.kind];
    if (!make) { throw new Error("unknown chart kind " + spec.kind); }
    return make(spec);
  }

  function readSpec(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    return source ? JSON.parse(source.textContent) : null;
  }

  function draw(el) {
    if (!window.echarts) { return null; }
    var spec = readSpec(el);
    if (!spec) { return null; }
    var chart = window.echarts.getInstanceByDom(el) ||
      window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec), true);
    if (window.ResizeObserver && !el.hasAttribute("data-drawn")) {
      new ResizeObserver(function () { chart.resize(); }).observe(el);
    }
    el.setAttribute("data-drawn", spec.kind);
    return chart;
  }

  function update(el, spec) {
    var chart = window.echarts.getInstanceByDom(el) || draw(el);
    if (chart) { chart.setOption(option(spec), true); }
    return chart;
  }

  function drawAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-chart]"), draw);
  }

  window.wanggeCharts = { draw: draw, update: update, drawAll: drawAll, kinds: KINDS };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(); });
  } else {
    drawAll();
  }
})();
