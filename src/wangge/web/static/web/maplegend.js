// What the Leaflet map pages share (web/map.js, analytics/hotspots.js): DOM nodes filled with
// textContent (data is never handed to Leaflet or the page as HTML) and the legend box in the
// map's bottom-right corner. Loaded before the page's own script, after leaflet.js.
(function () {
  "use strict";

  function node(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = String(text);
    return n;
  }

  // The legend control, added to `map` now; draw(box) fills the box whenever redraw() is
  // called (and once when the control is added). Clicks on the legend stay off the map.
  function legend(map, draw) {
    const control = L.control({ position: "bottomright" });
    let box = null;
    control.onAdd = function () {
      box = node("div", "map-legend");
      L.DomEvent.disableClickPropagation(box);
      draw(box);
      return box;
    };
    control.addTo(map);
    return { redraw: () => { if (box) draw(box); } };
  }

  // One class of a legend scale: its colour swatch and its label.
  function swatch(colour, label) {
    const li = node("li");
    const sw = node("span", "legend-swatch");
    sw.style.backgroundColor = colour; // CSSOM, not a style attribute (CSP)
    li.appendChild(sw);
    li.appendChild(node("span", null, label));
    return li;
  }

  window.wanggeMap = { node: node, legend: legend, swatch: swatch };
})();
