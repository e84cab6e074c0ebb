// The report form (上报), in the rain: "use my location" fills the coordinates, asks the
// server which grid the point lies in (GET /api/v1/grids/locate) and shows "位于 <grid>"
// with a small map and a pin; a refused or failed location says so in plain words. Manual
// coordinates are looked up the same way. Messages come from data-* attributes of
// #report-where (translated in the template); no inline script (CSP).
(function () {
  "use strict";
  const form = document.querySelector("form[data-report]");
  if (!form) return;
  const where = document.getElementById("report-where");
  const mapEl = document.getElementById("report-map");
  const lngInput = document.getElementById("id_lng");
  const latInput = document.getElementById("id_lat");
  const button = form.querySelector("button[data-report-locate]");
  const API = "/api/v1/grids/";
  let map = null;
  let pin = null;
  let outline = null;
  let asked = 0; // only the latest lookup may write the answer

  function say(text, kind) {
    where.textContent = text;
    where.dataset.state = kind;
  }

  function showMap(lat, lng) {
    if (typeof L === "undefined") return;
    mapEl.hidden = false;
    if (!map) {
      map = L.map(mapEl, { attributionControl: false, zoomControl: false });
      if (mapEl.dataset.tileUrl) L.tileLayer(mapEl.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
    }
    if (pin) pin.remove();
    pin = L.circleMarker([lat, lng], { radius: 8, color: "#dc2626", fillOpacity: 0.8,
      className: "report-pin" }).addTo(map);
    map.invalidateSize();
    map.setView([lat, lng], outline ? map.getZoom() : 16);
  }

  function drawGrid(feature, lat, lng) {
    if (!map) return;
    if (outline) outline.remove();
    outline = L.geoJSON(feature, { style: { color: "#1d4ed8", weight: 2, fillOpacity: 0.08 } }).addTo(map);
    map.fitBounds(outline.getBounds(), { padding: [8, 8] });
    if (pin) pin.bringToFront();
    map.panInside([lat, lng]);
  }

  async function gridShape(code, parentCode) {
    // the grid's outline, if the user may see it: their own top grids (a grid worker's grid),
    // else among the children of its parent (the desks, who see the whole subtree)
    const tries = [`${API}top.geojson`,
      parentCode ? `${API}${encodeURIComponent(parentCode)}/children.geojson` : null];
    for (const url of tries) {
      if (!url) continue;
      try {
        const r = await fetch(url, { credentials: "same-origin" });
        if (!r.ok) continue;
        const found = (await r.json()).features.find((f) => f.properties.code === code);
        if (found) return found;
      } catch (e) { /* no outline: the pin alone */ }
    }
    return null;
  }

  async function lookup(lat, lng) {
    const mine = ++asked;
    showMap(lat, lng);
    if (outline) { outline.remove(); outline = null; }
    let r;
    try {
      r = await fetch(`${API}locate?lat=${lat}&lng=${lng}`, { credentials: "same-origin" });
    } catch (e) {
      if (mine === asked) say(where.dataset.failed, "failed");
      return;
    }
    if (mine !== asked) return;
    if (r.status === 404) {
      say(where.dataset.outside, "outside");
      return;
    }
    if (!r.ok) {
      say(where.dataset.failed, "failed");
      return;
    }
    const found = await r.json();
    if (mine !== asked) return;
    const chain = found.ancestors.filter((g) => g.level > 0).map((g) => g.name);
    say(where.dataset.at.replace("%(grid)s", found.grid.name), "located");
    where.dataset.grid = found.grid.code;
    where.title = chain.join(" › ");
    const parent = found.ancestors.length ? found.ancestors[found.ancestors.length - 1].code : "";
    const shape = await gridShape(found.grid.code, parent);
    if (shape && mine === asked) drawGrid(shape, lat, lng);
  }

  function fromInputs() {
    const lat = parseFloat(latInput.value);
    const lng = parseFloat(lngInput.value);
    if (Number.isFinite(lat) && Number.isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) {
      lookup(lat, lng);
    }
  }

  button.addEventListener("click", () => {
    if (!navigator.geolocation) {
      say(where.dataset.unsupported, "unsupported");
      return;
    }
    say(where.dataset.locating, "locating");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition((p) => {
      button.disabled = false;
      lngInput.value = p.coords.longitude.toFixed(7);
      latInput.value = p.coords.latitude.toFixed(7);
      lookup(p.coords.latitude, p.coords.longitude);
    }, (err) => {
      button.disabled = false;
      const denied = err && err.code === 1; // PERMISSION_DENIED
      say(denied ? where.dataset.denied : where.dataset.unavailable, denied ? "denied" : "unavailable");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
  lngInput.addEventListener("change", fromInputs);
  latInput.addEventListener("change", fromInputs);
  fromInputs(); // the form came back with a location: show it again
})();
