// The resident's report form (/report/) and its done page. The form works without this
// script (radio buttons, the building of the code); the script adds:
//   - "use my position" (navigator.geolocation) and a pin on a Leaflet map; the base-map
//     tiles are optional (offline or none configured, the blank map still takes a pin);
//   - the extra questions of the chosen category only, the contact fields hidden when
//     "匿名反映" is chosen, at most data-max photos;
//   - before sending, the open case of the same kind nearby (GET nearby.json), offered to
//     follow instead ("已有人报告：关注这一件"), so the photos chosen are not lost;
//   - the captcha's "换一张" (captcha-refresh answers JSON to an XMLHttpRequest-marked fetch);
//   - on the done page, "copy the number and code".
// Text from the server only ever goes in through textContent (no markup is built from data);
// messages come from data-* attributes of the template (translated there). No inline script.
(function () {
  "use strict";

  function copyButton() {
    const button = document.getElementById("rr-copy");
    if (!button || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(button.dataset.text || "").then(() => {
        button.textContent = button.dataset.copied || button.textContent;
      }, () => {});
    });
  }

  function captchaRefresh() {
    const button = document.getElementById("rr-captcha-refresh");
    if (!button) return;
    button.addEventListener("click", () => {
      fetch(button.dataset.url, { headers: { "X-Requested-With": "XMLHttpRequest" } })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((data) => {
          const box = button.parentElement;
          const img = box.querySelector("img.captcha");
          const key = box.querySelector("input[name=captcha_0]");
          const text = box.querySelector("input[name=captcha_1]");
          if (img) img.src = data.image_url;
          if (key) key.value = data.key;
          if (text) { text.value = ""; text.focus(); }
        })
        .catch(() => {});
    });
  }

  function reportForm(form) {
    const lng = document.getElementById("id_lng");
    const lat = document.getElementById("id_lat");
    const say = document.getElementById("rr-where-say");
    const mapEl = document.getElementById("rr-map");
    const pointBox = document.getElementById("rr-point");
    const offer = document.getElementById("rr-offer");
    const anyway = form.querySelector("input[name=new_anyway]");
    let map = null;
    let pin = null;
    let checked = false; // the nearby check ran for this submit

    function tell(key) {
      if (say && say.dataset[key]) say.textContent = say.dataset[key];
    }

    function whereChoice() {
      const on = form.querySelector("input[name=where]:checked");
      return on ? on.value : "";
    }

    function choosePoint() {
      const point = form.querySelector("input[name=where][value=point]");
      if (point) point.checked = true;
      showWhere();
    }

    function place(y, x, key) {
      lat.value = y.toFixed(7);
      lng.value = x.toFixed(7);
      tell(key);
      if (!map) return;
      if (pin) pin.setLatLng([y, x]);
      else {
        pin = L.marker([y, x], { draggable: true }).addTo(map);
        pin.on("dragend", () => {
          const p = pin.getLatLng();
          place(p.lat, p.lng, "picked");
        });
      }
      map.setView([y, x], Math.max(map.getZoom(), 16));
    }

    function ensureMap() {
      if (map || typeof L === "undefined" || !mapEl) return;
      const y0 = parseFloat(mapEl.dataset.lat);
      const x0 = parseFloat(mapEl.dataset.lng);
      map = L.map(mapEl, { attributionControl: false });
      if (mapEl.dataset.tileUrl) L.tileLayer(mapEl.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
      map.setView(isNaN(y0) ? [27.65, 113.5] : [y0, x0], 15);
      map.on("click", (ev) => {
        choosePoint();
        place(ev.latlng.lat, ev.latlng.lng, "picked");
      });
      if (lat.value && lng.value) place(parseFloat(lat.value), parseFloat(lng.value), "picked");
    }

    function showWhere() {
      if (!pointBox) return;
      pointBox.hidden = whereChoice() !== "point";
      if (!pointBox.hidden) {
        ensureMap();
        if (map) map.invalidateSize();
      }
    }

    function showExtras() {
      const on = form.querySelector("input[name=public_category]:checked");
      for (const box of form.querySelectorAll(".rr-extra")) {
        box.hidden = !on || box.dataset.for !== on.value;
      }
    }

    function showContact() {
      const on = form.querySelector("input[name=contact_mode]:checked");
      const fields = document.getElementById("rr-contact-fields");
      if (fields) fields.hidden = !!on && on.value === "anonymous";
    }

    function trimPhotos(input) {
      const max = parseInt(input.dataset.max || "0", 10);
      const hint = document.getElementById("rr-photo-hint");
      if (!max || !input.files || input.files.length <= max) return;
      try {
        const keep = new DataTransfer();
        Array.from(input.files).slice(0, max).forEach((f) => keep.items.add(f));
        input.files = keep.files;
      } catch (e) { /* an old browser: the server refuses the extra ones with a message */ }
      if (hint && input.dataset.tooMany) hint.textContent = input.dataset.tooMany;
    }

    // the point the case will have, if the page knows it already
    function point() {
      const where = whereChoice();
      if (where === "building" && form.dataset.buildingLat) {
        return [form.dataset.buildingLng, form.dataset.buildingLat];
      }
      if (where === "point" && lat.value && lng.value) return [lng.value, lat.value];
      return null;
    }

    function showOffer(found) {
      document.getElementById("rr-offer-category").textContent = found.category;
      document.getElementById("rr-offer-state").textContent = found.state;
      document.getElementById("rr-offer-date").textContent = found.date;
      document.getElementById("rr-follow-no").value = found.register_no;
      offer.hidden = false;
      offer.scrollIntoView({ block: "center" });
    }

    form.addEventListener("change", (ev) => {
      const t = ev.target;
      if (!(t instanceof HTMLInputElement)) return;
      if (t.name === "where") showWhere();
      else if (t.name === "public_category") { showExtras(); checked = false; }
      else if (t.name === "contact_mode") showContact();
      else if (t.name === "photos") trimPhotos(t);
    });

    const locate = document.getElementById("rr-locate");
    if (locate) {
      locate.addEventListener("click", () => {
        if (!navigator.geolocation) { tell("unsupported"); return; }
        tell("locating");
        navigator.geolocation.getCurrentPosition(
          (p) => { choosePoint(); ensureMap(); place(p.coords.latitude, p.coords.longitude, "located"); checked = false; },
          (err) => tell(err.code === 1 ? "denied" : "unavailable"),
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }

    const mine = document.getElementById("rr-mine-anyway");
    if (mine) {
      mine.addEventListener("click", () => {
        anyway.value = "on";
        offer.hidden = true;
        form.requestSubmit();
      });
    }

    form.addEventListener("submit", (ev) => {
      const category = form.querySelector("input[name=public_category]:checked");
      const at = point();
      if (checked || anyway.value || !category || !at || !form.dataset.nearbyUrl) return;
      // ask first; the page's own submit (and forms.js's one-tap guard) waits for the answer
      ev.preventDefault();
      ev.stopImmediatePropagation();
      ev.stopPropagation();
      const q = new URLSearchParams({ public_category: category.value, lng: at[0], lat: at[1] });
      fetch(form.dataset.nearbyUrl + "?" + q.toString(), { headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : { case: null }))
        .catch(() => ({ case: null })) // offline or failing: the server checks again
        .then((data) => {
          checked = true;
          if (data && data.case) showOffer(data.case);
          else form.requestSubmit();
        });
    });

    showWhere();
    showExtras();
    showContact();
  }

  function start() {
    const form = document.getElementById("report-form");
    if (form) reportForm(form);
    captchaRefresh();
    copyButton();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
