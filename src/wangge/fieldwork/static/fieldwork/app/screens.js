/* What the field app shows, drawn from the offline data in IndexedDB (FieldQueue): today's
   plan, the select lists of the forms, the grid's register, the sync screen. Text goes in
   through textContent only (data never becomes markup). */
(function () {
  "use strict";
  const Q = window.FieldQueue;
  const T = JSON.parse(document.getElementById("app-messages").textContent);
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k.startsWith("data-")) node.setAttribute(k, v); else node[k] = v;
    });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function fillSelect(select, rows, blank) {
    const keep = select.value;
    select.replaceChildren();
    if (blank !== undefined) select.append(el("option", {value: ""}, blank));
    rows.forEach(([value, label]) => select.append(el("option", {value: String(value)}, label)));
    if (keep && [...select.options].some((o) => o.value === keep)) select.value = keep;
  }

  function buildingOf(data) {
    const houses = new Map(data.houses.map((h) => [h.i, h]));
    const buildings = new Map(data.buildings.map((b) => [b.i, b]));
    return (houseId) => {
      const h = houses.get(houseId);
      return h ? [buildings.get(h.b), h] : [undefined, undefined];
    };
  }

  function householdRows(data) {
    const where = buildingOf(data);
    return data.households.map((hh) => {
      const [b, h] = where(hh.h);
      return [hh.i, (b ? b.n + " " : "") + (h ? h.n : "") + " · " + hh.n];
    });
  }

  async function renderPlan(data, pendingDone) {
    const list = $("plan-list");
    list.replaceChildren();
    const items = (data.plan && data.plan.items) || [];
    if (!items.length) { list.append(el("li", {className: "empty"}, T.no_plan)); return; }
    items.forEach((it) => {
      const done = pendingDone.has(it.i) ? pendingDone.get(it.i) : !!it.d;
      const li = el("li", {className: "plan-item" + (done ? " done" : ""), "data-item": it.i});
      const label = el("label");
      const box = el("input", {type: "checkbox", checked: done, "data-plan-item": it.i});
      label.append(box, el("span", {className: "kind"}, data.labels.plan_kind[it.k] || it.k),
                   el("span", {className: "at"}, it.at || ""), el("span", {}, it.t));
      li.append(label);
      list.append(li);
    });
  }

  function renderForms(data) {
    $("grid-name").textContent = data.grid.n;
    fillSelect($("visit-kind"), data.visit_kinds);
    fillSelect($("opinion-topic"), data.opinion_topics);
    fillSelect($("outreach-material"), data.materials.map((m) => [m[0], m[1]]));
    const households = householdRows(data);
    fillSelect($("visit-household"), households);
    fillSelect($("outreach-household"), households, "—");
    const cats = $("report-category");
    cats.replaceChildren();
    const groups = new Map();
    data.categories.forEach((c) => {
      if (!groups.has(c.g)) { groups.set(c.g, el("optgroup", {label: c.g})); cats.append(groups.get(c.g)); }
      groups.get(c.g).append(el("option", {value: c.c}, c.n));
    });
    fillSelect($("report-building"), data.buildings.map((b) => [b.i, b.n + " " + (b.a || "")]), "—");
    fillSelect($("patrol-area"), data.patrol_areas.map((a) => [a.i, a.n]), "—");
  }

  function renderInspection(data, patrol) {
    const list = $("inspection-list");
    list.replaceChildren();
    const checked = (patrol && patrol.checked) || {};
    data.inspection.forEach((item) => {
      const li = el("li", {className: "check", "data-check-item": item.i});
      li.append(el("span", {className: "name"}, item.n));
      if (checked[item.i]) {
        li.append(el("span", {className: "result " + checked[item.i]}, T[checked[item.i]]));
      } else {
        const ok = el("button", {type: "button", className: "ok", disabled: !patrol, "data-result": "ok"}, T.ok);
        const bad = el("button", {type: "button", className: "problem", disabled: !patrol, "data-result": "problem"}, T.problem);
        li.append(ok, bad);
      }
      list.append(li);
    });
  }

  function renderRegister(data, filter) {
    const list = $("grid-list");
    list.replaceChildren();
    const where = buildingOf(data);
    const needle = (filter || "").trim();
    let shown = 0;
    for (const r of data.residents) {
      const [b, h] = where(r.h);
      const place = (b ? b.n : "") + " " + (h ? h.n : "");
      if (needle && !(r.n.includes(needle) || place.includes(needle))) continue;
      if (++shown > 200) break;  // a phone lists a page; the search narrows
      const li = el("li", {className: "resident", "data-resident": r.i});
      li.append(el("b", {}, r.n), el("span", {}, place),
                el("span", {className: "phone"}, r.p || ""),
                el("button", {type: "button", className: "edit", "data-edit": r.i}, T.edit));
      list.append(li);
    }
  }

  function describe(e) {
    const p = e.payload || {};
    const step = T["proxy.kind." + e.kind];  // a 代办 step names itself (proxy.js)
    if (step) return step + " " + (p.signer_name || p.recipient_name || "");
    return (p.title || p.content || p.text || p.kind || "") + "";
  }

  async function renderSync() {
    const c = await Q.counts();
    $("queue-count").textContent = c.pending;
    $("sync-pending").textContent = c.pending;
    const last = await Q.getKv("last_sync", null);
    $("sync-last").textContent = last ? new Date(last).toLocaleString("zh-CN") : T.never;
    $("sync-error").textContent = (await Q.getKv("last_error", "")) || "—";
    $("net-state").textContent = navigator.onLine ? T.online : T.offline;
    const problems = $("sync-problems");
    problems.replaceChildren();
    const bad = await Q.db.queue.where("state").anyOf("failed", "conflict").sortBy("seq");
    bad.forEach((e) => {
      const li = el("li", {className: "outcome " + e.state, "data-key": e.client_key});
      li.append(el("b", {}, e.kind + " · " + (e.state === "conflict" ? T.conflict : T.failed)));
      (e.outcome.errors || []).forEach((x) => li.append(el("p", {className: "error"}, x.loc.join(".") + ": " + x.msg)));
      if (e.state === "failed") {
        li.append(el("button", {type: "button", className: "discard", "data-resolve": "discard", "data-seq": e.seq}, T.discard));
      }
      if (e.state === "conflict") {
        if (e.payload.changes) li.append(el("p", {}, T.mine + ": " + JSON.stringify(e.payload.changes)));
        else li.append(el("p", {}, describe(e)));
        const cur = e.outcome.current || {};
        li.append(el("p", {className: "server-copy"}, T.server_copy + ": " + (cur.n || "") + " " + (cur.p || "")));
        li.append(el("button", {type: "button", className: "keep-server", "data-resolve": "server", "data-seq": e.seq}, T.keep_server),
                  el("button", {type: "button", className: "reapply", "data-resolve": "mine", "data-seq": e.seq}, T.reapply));
      }
      problems.append(li);
    });
    const queue = $("sync-queue");
    queue.replaceChildren();
    const recent = await Q.db.queue.orderBy("seq").reverse().limit(30).toArray();
    recent.forEach((e) => {
      queue.append(el("li", {className: "outcome " + e.state, "data-state": e.state},
                      e.kind + " · " + (T[e.state] || e.state) + " " + describe(e)));
    });
  }

  // -- the signature pad (the 委托书 of proxy handling, the parties of a 调解协议书) ---------------------------------------------------------------------
  /* A canvas a resident or a party signs with a finger (pointer events; mouse and pen too). White
     background, so the PNG reads on any viewer. `signed` once the ink is long enough to be
     more than a slip of the finger. */
  function signaturePad(canvas) {
    const ctx = canvas.getContext("2d");
    let last = null;
    let ink = 0;
    const pad = {
      get signed() { return ink >= 30; },
      clear() {
        ctx.save();
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.fillStyle = "#ffffff";
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.restore();
        ink = 0;
        canvas.dataset.signed = "0";
      },
      /* size the bitmap to the box it is shown in (0 while hidden: sized when shown) */
      fit() {
        const r = canvas.getBoundingClientRect();
        if (!r.width) return;
        const dpr = window.devicePixelRatio || 1;
        const w = Math.round(r.width * dpr), h = Math.round(r.height * dpr);
        if (canvas.width === w && canvas.height === h && ink) return;  // keep a signature
        canvas.width = w;
        canvas.height = h;
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        pad.clear();
      },
      blob() { return new Promise((resolve) => canvas.toBlob(resolve, "image/png")); },
    };
    function at(ev) {
      const r = canvas.getBoundingClientRect();
      return [ev.clientX - r.left, ev.clientY - r.top];
    }
    function line(a, b) {
      ctx.lineWidth = 3;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111111";
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      ctx.stroke();
    }
    canvas.addEventListener("pointerdown", (ev) => {
      ev.preventDefault();
      canvas.setPointerCapture(ev.pointerId);
      last = at(ev);
      line(last, [last[0] + 0.1, last[1] + 0.1]);
    });
    canvas.addEventListener("pointermove", (ev) => {
      if (!last) return;
      ev.preventDefault();
      const p = at(ev);
      line(last, p);
      ink += Math.hypot(p[0] - last[0], p[1] - last[1]);
      last = p;
      canvas.dataset.signed = pad.signed ? "1" : "0";
    });
    const end = () => { last = null; };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    return pad;
  }

  window.FieldScreens = {T, el, renderPlan, renderForms, renderInspection, renderRegister, renderSync,
                        signaturePad};
})();
