/* The field app: navigation between screens, the forms (each write → the queue), the patrol
   (GPS points sampled from watchPosition), photos, register edits and their conflicts. */
(function () {
  "use strict";
  const Q = window.FieldQueue;
  const S = window.FieldScreens;
  const T = S.T;
  const $ = (id) => document.getElementById(id);
  let data = null;
  let watchId = null;

  function toast(text) {
    const t = $("toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.hidden = true; }, 3000);
  }

  function go(name) {
    document.querySelectorAll("[data-screen]").forEach((s) => { s.hidden = s.dataset.screen !== name; });
    $("back").hidden = name === "home";
    document.body.dataset.current = name;
    if (name === "sync") S.renderSync();
    if (name === "grid" && data) S.renderRegister(data, $("grid-search").value);
    if (window.FieldProxy) window.FieldProxy.shown(name);  // the 代办 screens (proxy.js)
    window.scrollTo(0, 0);
  }

  async function render() {
    data = await Q.getKv("offline", null);
    await S.renderSync();
    if (window.FieldProxy) await window.FieldProxy.render(data);
    if (!data) { $("plan-list").replaceChildren(S.el("li", {className: "empty"}, T.no_data)); return; }
    // plan ticks still waiting to sync show as the worker left them
    const pendingDone = new Map();
    (await Q.db.queue.where("state").equals("pending").sortBy("seq"))
      .filter((e) => e.kind === "plan.item_done")
      .forEach((e) => pendingDone.set(e.payload.item_id, e.payload.done));
    await S.renderPlan(data, pendingDone);
    S.renderForms(data);
    S.renderInspection(data, await Q.getKv("patrol", null));
    await renderPatrolState();
    const checkin = await Q.getKv("checked_in", null);
    $("checkin-state").textContent = checkin === Q.today() ? T.checked_in : "";
    document.body.dataset.ready = "1";
  }

  /* the phone's position, or null within a few seconds (indoors, refused) */
  function locate() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(
        (p) => resolve(p.coords), () => resolve(null),
        {enableHighAccuracy: true, timeout: 8000, maximumAge: 60000});
    });
  }

  function formValues(form) {
    const out = {};
    new FormData(form).forEach((v, k) => { if (typeof v === "string" && v.trim() !== "") out[k] = v.trim(); });
    return out;
  }

  async function saved(form, text) {
    form.reset();
    toast(text || T.queued);
    await render();
    go("home");
  }

  // -- the forms ---------------------------------------------------------------------------
  const forms = {
    async "checkin-form"(form) {
      const v = formValues(form);
      toast(T.locating);
      const pos = await locate();
      const payload = {at: Q.isoNow(), status: v.status || "on_duty"};
      if (v.note) payload.note = v.note;
      if (pos) Object.assign(payload, {lng: pos.longitude, lat: pos.latitude, accuracy_m: Math.round(pos.accuracy)});
      await Q.enqueue("checkin.create", payload);
      await Q.setKv("checked_in", Q.today());
      await saved(form, pos ? T.queued : T.no_location);
    },
    async "visit-form"(form) {
      const v = formValues(form);
      const payload = {visited_at: Q.isoNow(), kind: v.kind, household_id: Number(v.household_id),
                       people_met: Number(v.people_met || 1)};
      ["needs", "help_given", "follow_up_on"].forEach((k) => { if (v[k]) payload[k] = v[k]; });
      await Q.enqueue("visit.create", payload);
      await saved(form);
    },
    async "opinion-form"(form) {
      const v = formValues(form);
      await Q.enqueue("opinion.create", {collected_at: Q.isoNow(), topic: v.topic, content: v.content,
        source: v.source || "resident", people_concerned: Number(v.people_concerned || 1),
        urgency: v.urgency || "normal"});
      await saved(form);
    },
    async "diary-form"(form) {
      const v = formValues(form);
      const payload = {day: Q.today(), text: v.text};
      if (v.tags) payload.tags = v.tags.split(/\s+/).filter(Boolean);
      await Q.enqueue("diary.create", payload);
      await saved(form);
    },
    async "outreach-form"(form) {
      const v = formValues(form);
      const payload = {day: Q.today(), material: v.material, count: Number(v.count)};
      if (v.household_id) payload.household_id = Number(v.household_id);
      if (v.place) payload.place = v.place;
      await Q.enqueue("distribution.create", payload);
      await saved(form);
    },
    async "report-form"(form) {
      const v = formValues(form);
      const hashes = [];
      for (const file of $("report-photo").files) hashes.push(await Q.addPhoto(file));
      const payload = {category: v.category, title: v.title};
      if (v.description) payload.description = v.description;
      if (v.building_id) payload.building_id = Number(v.building_id);
      if (hashes.length) payload.photo_hashes = hashes;
      toast(T.locating);
      const pos = await locate();
      if (pos) Object.assign(payload, {lng: pos.longitude, lat: pos.latitude});
      await Q.enqueue("case.report", payload);
      await saved(form);
    },
    async "edit-form"(form) {
      const v = formValues(form);
      const r = data.residents.find((x) => x.i === Number(v.resident));
      await Q.enqueue("register.update", {kind: "resident", id: r.i, changes: {phone: v.phone}},
                      {base_version: r.v});
      form.hidden = true;
      toast(T.saved_edit);
      await render();
    },
  };

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    const id = form.getAttribute("id");  // not form.id: a field named "id" would shadow it
    if (!forms[id]) return;
    ev.preventDefault();
    if (!form.checkValidity()) { toast(T.required); return; }
    const button = form.querySelector("[type=submit]");
    button.disabled = true;
    try { await forms[id](form); } finally { button.disabled = false; }
  });

  // -- the patrol --------------------------------------------------------------------------
  const MIN_METRES = 5, MIN_MS = 15000, FLUSH_EVERY = 20;

  function metres(a, b) {
    const r = 6371000, rad = Math.PI / 180;
    const dLat = (b[2] - a[2]) * rad, dLng = (b[1] - a[1]) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[2] * rad) * Math.cos(b[2] * rad) * Math.sin(dLng / 2) ** 2;
    return 2 * r * Math.asin(Math.sqrt(h));
  }

  async function flushPoints(patrol) {
    if (!patrol.buffer.length) return patrol;
    await Q.enqueue("patrol.points", {patrol_key: patrol.key, points: patrol.buffer});
    patrol.buffer = [];
    await Q.setKv("patrol", patrol);
    return patrol;
  }

  /* One GPS fix: kept when the worker moved or time passed (a day's track stays small). */
  async function onPosition(p) {
    const patrol = await Q.getKv("patrol", null);
    if (!patrol) return;
    const point = [Date.now(), p.coords.longitude, p.coords.latitude, Math.round(p.coords.accuracy)];
    const last = patrol.last;
    if (last && metres(last, point) < MIN_METRES && point[0] - last[0] < MIN_MS) return;
    patrol.last = point;
    patrol.buffer.push(point);
    patrol.count = (patrol.count || 0) + 1;
    await Q.setKv("patrol", patrol);
    if (patrol.buffer.length >= FLUSH_EVERY) await flushPoints(patrol);
    renderPatrolState();
  }

  function watch() {
    if (watchId !== null || !navigator.geolocation) return;
    watchId = navigator.geolocation.watchPosition(onPosition, () => {},
      {enableHighAccuracy: true, maximumAge: 5000});
  }

  async function renderPatrolState() {
    const patrol = await Q.getKv("patrol", null);
    $("patrol-start").hidden = !!patrol;
    $("patrol-stop").hidden = !patrol;
    $("patrol-state").textContent = patrol ? T.patrol_on + " · " + T.points + " " + (patrol.count || 0) : T.patrol_off;
    document.body.dataset.patrol = patrol ? "on" : "off";
    if (patrol) watch();
  }

  $("patrol-start").addEventListener("click", async () => {
    const payload = {started_at: Q.isoNow()};
    const area = $("patrol-area").value;
    if (area) payload.patrol_area_id = Number(area);
    const key = await Q.enqueue("patrol.start", payload);
    await Q.setKv("patrol", {key: key, buffer: [], count: 0, checked: {}});
    await render();
  });

  $("patrol-stop").addEventListener("click", async () => {
    const patrol = await flushPoints(await Q.getKv("patrol", null));
    await Q.enqueue("patrol.stop", {patrol_key: patrol.key, ended_at: Q.isoNow()});
    await Q.db.kv.delete("patrol");
    if (watchId !== null) { navigator.geolocation.clearWatch(watchId); watchId = null; }
    toast(T.queued);
    await render();
  });

  /* A problem asks for a note and whether to report it as a case, in place (no dialogs). */
  function askProblem(li) {
    if (li.querySelector(".problem-form")) return;
    const box = S.el("div", {className: "problem-form"});
    const note = S.el("input", {name: "note", maxLength: 200, placeholder: T.problem});
    const label = S.el("label", {className: "inline"});
    const report = S.el("input", {type: "checkbox", name: "report_case", checked: true});
    label.append(report, S.el("span", {}, T.report_case));
    box.append(note, label, S.el("button", {type: "button", className: "problem confirm",
                                            "data-result": "problem", "data-confirmed": "1"}, T.save));
    li.append(box);
    note.focus();
  }

  $("inspection-list").addEventListener("click", async (ev) => {
    const button = ev.target.closest("[data-result]");
    if (!button) return;
    const patrol = await Q.getKv("patrol", null);
    if (!patrol) return;
    const li = button.closest("[data-check-item]");
    const itemId = Number(li.dataset.checkItem);
    const result = button.dataset.result;
    if (result === "problem" && !button.dataset.confirmed) { askProblem(li); return; }
    const payload = {patrol_key: patrol.key, item_id: itemId, result: result};
    if (result === "problem") {
      const note = li.querySelector("[name=note]").value.trim();
      if (note) payload.note = note;
      payload.report_case = li.querySelector("[name=report_case]").checked;
      if (patrol.last) { payload.lng = patrol.last[1]; payload.lat = patrol.last[2]; }
    }
    await flushPoints(patrol);  // the points before the check, so the case finds its place
    await Q.enqueue("patrol.check", payload);
    const fresh = await Q.getKv("patrol", null);
    fresh.checked[itemId] = result;
    await Q.setKv("patrol", fresh);
    S.renderInspection(data, fresh);
  });

  // -- plan ticks, register edits, conflicts -------------------------------------------------
  $("plan-list").addEventListener("change", async (ev) => {
    const box = ev.target.closest("[data-plan-item]");
    if (!box) return;
    await Q.enqueue("plan.item_done", {item_id: Number(box.dataset.planItem), done: box.checked});
    box.closest("li").classList.toggle("done", box.checked);
  });

  $("grid-search").addEventListener("input", () => S.renderRegister(data, $("grid-search").value));
  $("grid-list").addEventListener("click", (ev) => {
    const button = ev.target.closest("[data-edit]");
    if (!button) return;
    const r = data.residents.find((x) => x.i === Number(button.dataset.edit));
    const form = $("edit-form");
    form.elements.resident.value = r.i;
    form.elements.phone.value = "";
    $("edit-title").textContent = T.edit + " · " + r.n + " (" + (r.p || "") + ")";
    form.hidden = false;
    form.elements.phone.focus();
  });

  $("sync-problems").addEventListener("click", async (ev) => {
    const button = ev.target.closest("[data-resolve]");
    if (!button) return;
    const entry = await Q.db.queue.get(Number(button.dataset.seq));
    if (button.dataset.resolve === "discard") {  // a refused write the worker gives up
      await Q.db.queue.update(entry.seq, {state: "discarded"});
      await S.renderSync();
      return;
    }
    const current = entry.outcome.current || {};
    if (button.dataset.resolve === "mine" && current.v) {
      await Q.enqueue(entry.kind, entry.payload, {base_version: current.v});
    }
    await Q.db.queue.update(entry.seq, {state: "resolved"});
    // the phone's copy takes the server's version either way
    if (data && current.kind === "resident") {
      const i = data.residents.findIndex((x) => x.i === current.i);
      if (i >= 0) { data.residents[i] = Object.assign({}, current); delete data.residents[i].kind; }
      await Q.setKv("offline", data);
    }
    await S.renderSync();
  });

  // -- navigation and start ----------------------------------------------------------------
  document.addEventListener("click", (ev) => {
    const target = ev.target.closest("[data-go]");
    if (target) go(target.dataset.go);
  });
  // a screen opened from a list goes back to its list (data-back), the others home
  $("back").addEventListener("click", () => {
    const here = document.querySelector(`[data-screen="${document.body.dataset.current}"]`);
    go((here && here.dataset.back) || "home");
  });
  $("sync-now").addEventListener("click", async () => {
    try { await Q.sync(); toast(T.synced); } catch (e) { toast(T.sync_failed); }
    await render();
    S.renderSync();
  });
  window.addEventListener("online", () => S.renderSync());
  window.addEventListener("offline", () => S.renderSync());
  Q.onChange(() => { S.renderSync(); });

  async function start() {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/app/sw.js", {scope: "/app/"}).catch((e) => console.warn(e));
    }
    go("home");
    await render();
    if (navigator.onLine) {
      try { await Q.sync(); } catch (e) {
        if (String(e.message).includes("login")) toast(T.login);
      }
      await render();
    }
  }

  window.FieldApp = {go, render, toast, sync: Q.sync, queue: Q};
  start();
})();
