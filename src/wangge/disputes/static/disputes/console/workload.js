// 调解员工作量: per mediator, waiting / mediating / awaiting follow-up / late / agreements this
// month as grouped bars (ECharts),
// from the page's json_script named by data-chart (CSP: no inline script). Labels are drawn
// on the canvas and tooltips as rich text (ECharts' HTML tooltip writes style attributes).
(function () {
  "use strict";
  const el = document.getElementById("workload-chart");
  if (!el || typeof echarts === "undefined") return;
  const spec = JSON.parse(document.getElementById(el.dataset.chart).textContent);
  const PALETTE = ["#94a3b8", "#2563eb", "#f59e0b", "#dc2626", "#16a34a"];
  const many = spec.categories.length > 6;
  const chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    color: PALETTE,
    tooltip: { trigger: "axis", renderMode: "richText", confine: true },
    legend: { type: "scroll", top: 0 },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: spec.categories,
      axisLabel: { interval: 0, rotate: many ? 40 : 0, width: 80, overflow: "truncate" } },
    yAxis: { type: "value", minInterval: 1 },
    series: spec.series.map((s) => ({ name: s.name, type: "bar", data: s.data, barMaxWidth: 28 })),
  });
  window.addEventListener("resize", () => chart.resize());
  el.dataset.state = "ready";
})();
