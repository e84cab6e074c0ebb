/* 代办 in the field app: the worker's proxy requests (the offline bundle's `proxies`
   section, added by the services app: fieldwork knows only the shape), collection at the
   door with the resident's signature, delivery with the recipient's signature and a photo,
   and the resident's satisfaction. Every step is an envelope in the one queue (proxy.collect,
   proxy.recollect, proxy.submit, proxy.deliver, proxy.rate); photos and signatures are Blobs
   addressed by SHA-256 and uploaded before the envelopes, like any photo of the app.

   What the phone shows of a request is the newest of: the bundle's copy, the copy the server
   answered to a synced step (an outcome's `record`; the one with the longer timeline is the
   newer, the timeline being append-only), then the steps still waiting in the queue.
   Text goes in through textContent only. Loaded before app.js; FieldApp is used at event
   time. */
(function () {
  "use strict";
  const Q = window.FieldQueue;
  const S = window.FieldScreens;
  const T = S.T;
  const el = S.el;
  const $ = (id) => document.getElementById(id);
  const STEP_STATE = {"proxy.collect": "collected", "proxy.recollect": "collected",
                      "proxy.submit": "in_review", "proxy.deliver": "delivered",
                      "proxy.rate": "rated"};
  const RECENT_MS = 12 * 3600 * 1000;

  let data = null;
  let current = null;        // id of the request on the proxy-open screen
  let photos = new Map();    // material key → [File] taken for the collection

  function app() { return window.FieldApp; }
  function toast(text) { if (app()) app().toast(text); }

  const pads = {};
  function padOf(id) {
    if (!pads[id]) pads[id] = S.signaturePad($(id));
    return pads[id];
  }

  // -- what the phone knows of each request --------------------------------------------------
  async function proxyEntries() {
    return Q.db.queue.filter((e) => typeof e.kind === "string" && e.kind.startsWith("proxy."))
      .sortBy("seq");
  }

  /* id → {p: the request, local: state of the steps still queued | null, pending: [kinds],
     refused: [entries]} */
  async function known() {
    const out = new Map();
    ((data && data.proxies) || []).forEach((p) => out.set(p.id, {p: p, local: null, pending: [], refused: []}));
    for (const e of await proxyEntries()) {
      const id = e.payload && e.payload.proxy_id;
      if (id === undefined) continue;
      let row = out.get(id);
      // a synced step answers the request as it then stood; a refused one (conflict) too
      const rec = e.outcome && (e.outcome.record || e.outcome.current);
      if ((e.state === "done" || e.state === "conflict") && rec && rec.id === id) {
        if (!row) { row = {p: rec, local: null, pending: [], refused: []}; out.set(id, row); }
        else if ((rec.events || []).length > (row.p.events || []).length) row.p = rec;
      }
      if (!row) continue;
      if (e.state === "pending") { row.local = STEP_STATE[e.kind] || row.local; row.pending.push(e.kind); }
      if (e.state === "failed" || e.state === "conflict") row.refused.push(e);
      if (e.synced_at) row.synced = Math.max(row.synced || 0, e.synced_at);
    }
    // the bundle holds the requests still the worker's to act on; one it no longer holds is
    // kept while a step waits in the queue, the resident has still to rate it, or it was
    // synced in the last hours (in review, rated: the worker sees it went through)
    const bundle = new Set(((data && data.proxies) || []).map((p) => p.id));
    for (const [id, row] of out) {
      if (bundle.has(id) || row.pending.length || row.p.state === "delivered") continue;
      if (!row.synced || Date.now() - row.synced > RECENT_MS) out.delete(id);
    }
    return out;
  }

  function stateOf(row) { return row.local || row.p.state; }

  function stateLabel(row) {
    return row.local ? (T["proxy.local_" + row.local] || row.local) : (row.p.state_label || row.p.state);
  }

  function buildingName(p) {
    const b = p.building;
    if (b === null || b === undefined || b === "") return T["proxy.no_building"];
    if (typeof b === "object") return b.name || b.n || T["proxy.no_building"];
    if (typeof b === "number" && data && data.buildings) {
      const found = data.buildings.find((x) => x.i === b);
      return found ? found.n : T["proxy.no_building"];
    }
    return String(b);
  }

  /* an ISO moment (the server answers UTC) in the phone's time: "09:30", or "12-01 09:30"
     on another day */
  function when(iso) {
    if (!iso) return "";
    const local = Q.isoNow(new Date(iso));
    const day = local.slice(0, 10), hm = local.slice(11, 16);
    return day === Q.today() ? hm : day.slice(5) + " " + hm;
  }
  function timeOf(p) { return when(p.at); }

  /* the applicant as the register shows them: name, masked phone */
  function applicant(p) {
    const a = p.applicant_masked;
    if (!a || typeof a !== "object") return a ? String(a) : "";
    return [a.name, a.phone].filter(Boolean).join(" ");
  }

  /* what the worker may do next, from the state the phone knows */
  function needsMe(row) {
    return ["booked", "returned", "ready", "delivered"].includes(stateOf(row));
  }

  // -- the 代办 list, grouped by building (one visit per building) -----------------------------
  async function renderList() {
    const box = $("proxy-list");
    const rows = [...(await known()).values()];
    $("proxy-count").textContent = rows.filter(needsMe).length || "";
    box.replaceChildren();
    if (!rows.length) { box.append(el("p", {className: "empty"}, T["proxy.none"])); return; }
    const groups = new Map();
    rows.sort((a, b) => String(a.p.at || "~").localeCompare(String(b.p.at || "~")) || a.p.id - b.p.id);
    rows.forEach((row) => {
      const name = buildingName(row.p);
      if (!groups.has(name)) groups.set(name, []);
      groups.get(name).push(row);
    });
    for (const [name, members] of groups) {
      const ul = el("ul", {className: "proxies"});
      members.forEach((row) => {
        const p = row.p;
        const li = el("li", {className: "proxy-row" + (needsMe(row) ? " todo" : "")});
        const button = el("button", {type: "button", className: "proxy-open-button",
                                     "data-proxy": p.id, "data-state": stateOf(row)});
        button.append(el("b", {className: "item"}, (p.item && p.item.name) || ""),
                      el("span", {className: "who"}, applicant(p) + " · " + timeOf(p)),
                      el("span", {className: "where"}, p.address || ""),
                      el("span", {className: "state"}, stateLabel(row)));
        li.append(button);
        ul.append(li);
      });
      box.append(el("h3", {className: "building"}, name + " · " + members.length), ul);
    }
  }

  // -- one request ---------------------------------------------------------------------------
  function fact(dl, label, value) {
    dl.append(el("dt", {}, label), el("dd", {}, value || "—"));
  }

  function materialRow(m) {
    const li = el("li", {className: "material", "data-material": m.key});
    const head = el("div", {className: "material-head"});
    head.append(el("b", {}, m.name || m.key),
                el("span", {className: "tag" + (m.required ? " required" : "")},
                   m.required ? T["proxy.required"] : T["proxy.optional"]));
    li.append(head);
    const extra = [m.count ? m.count + T["proxy.count"] : "", m.condition || "", m.note || ""]
      .filter(Boolean).join(" · ");
    if (extra) li.append(el("p", {className: "hint"}, extra));
    const take = el("label", {className: "photo-button"});
    take.append(el("span", {}, T["proxy.take_photo"]),
                el("input", {type: "file", accept: "image/*", multiple: true,
                             "data-photo-for": m.key, className: "photo-input"}));
    take.querySelector("input").setAttribute("capture", "environment");
    const count = el("span", {className: "photo-count", "data-count-for": m.key},
                     "0 " + T["proxy.photos"]);
    const clear = el("button", {type: "button", className: "photo-clear", "data-clear-photos": m.key},
                     T["proxy.remove"]);
    const tools = el("div", {className: "photo-tools"});
    tools.append(take, count, clear);
    li.append(tools);
    return li;
  }

  function showPhotoCount(key) {
    const n = (photos.get(key) || []).length;
    const span = document.querySelector(`[data-count-for="${CSS.escape(key)}"]`);
    if (span) span.textContent = n + " " + T["proxy.photos"];
  }

  function originalRow() {
    const li = el("li", {className: "original"});
    li.append(el("input", {name: "original_name", maxLength: 60, placeholder: T["proxy.original_name"],
                           autocomplete: "off"}),
              el("input", {name: "original_count", type: "number", min: 1, value: 1,
                           inputMode: "numeric", title: T["proxy.count"]}),
              el("button", {type: "button", className: "remove-original"}, T["proxy.remove"]));
    return li;
  }

  function authText(p) {
    const signer = ($("proxy-collect-form").elements.signer_name.value || "").trim();
    return T["proxy.auth_text"].replace("{signer}", signer || T["proxy.auth_signer"])
      .replace("{item}", (p.item && p.item.name) || "");
  }

  async function renderOpen() {
    if (current === null) return;
    const row = (await known()).get(current);
    if (!row) { current = null; if (document.body.dataset.current === "proxy-open") app().go("proxy"); return; }
    const p = row.p;
    const state = stateOf(row);
    $("proxy-title").textContent = (p.item && p.item.name) || "";
    const dl = $("proxy-facts");
    dl.replaceChildren();
    fact(dl, T["proxy.no"], p.no);
    fact(dl, T["proxy.applicant"], applicant(p));
    fact(dl, T["proxy.address"], p.address || (p.building ? buildingName(p) : ""));
    fact(dl, T["proxy.at"], timeOf(p));
    fact(dl, T["proxy.state"], stateLabel(row));
    if ((p.originals || []).length) {
      fact(dl, T["proxy.originals"], p.originals.map((o) => o.name + " × " + o.count).join("，"));
    }
    const refused = $("proxy-refused");
    refused.replaceChildren();
    row.refused.forEach((e) => {
      const li = el("li", {className: "outcome failed"});
      li.append(el("b", {}, T["proxy.refused"] + (T["proxy.kind." + e.kind] || e.kind)));
      ((e.outcome && e.outcome.errors) || []).forEach((x) => {
        const where = (x.loc || []).filter((l) => l !== "base_version").join(".");
        li.append(el("p", {className: "error"}, where ? where + ": " + x.msg : x.msg));
      });
      refused.append(li);
    });

    const collect = $("proxy-collect-form"), deliver = $("proxy-deliver-form"), rate = $("proxy-rate-form");
    const showCollect = state === "booked" || state === "returned";
    const wasOpen = collect.dataset.request === String(p.id) && !collect.hidden;
    collect.hidden = !showCollect;
    deliver.hidden = state !== "ready";
    rate.hidden = state !== "delivered";
    if (showCollect && !wasOpen) {
      collect.dataset.request = String(p.id);
      collect.dataset.mode = state === "returned" ? "recollect" : "collect";
      photos = new Map();
      const list = $("proxy-materials");
      list.replaceChildren(...((p.item && p.item.materials) || []).map(materialRow));
      $("proxy-door-part").hidden = state === "returned";
      $("proxy-originals").replaceChildren();
      collect.elements.signer_name.value = "";
      $("proxy-auth-text").textContent = authText(p);
    }
    if (!deliver.hidden) {
      $("proxy-returned-row").hidden = !(p.originals || []).length;
    }
    let note = "";
    if (state === "collected" || state === "in_review" || state === "handling") note = T["proxy.wait"];
    if (state === "rated") note = row.local ? T["proxy.rated"] : stateLabel(row);
    $("proxy-note").textContent = note;
    $("proxy-note").hidden = !note;

    const events = $("proxy-events");
    events.replaceChildren(...(p.events || []).map((ev) =>
      el("li", {}, when(ev.at) + " " + (ev.label || ev.action || ""))));
    row.pending.forEach((kind) => events.append(el("li", {className: "pending"},
      (T["proxy.kind." + kind] || kind) + " · " + T.pending)));
    requestAnimationFrame(fitPads);
  }

  function fitPads() {
    ["proxy-sign-collect", "proxy-sign-deliver"].forEach((id) => {
      if ($(id).getClientRects().length) padOf(id).fit();
    });
  }

  async function open(id) {
    current = id;
    ["proxy-collect-form", "proxy-deliver-form", "proxy-rate-form"].forEach((f) => {
      $(f).hidden = true;
      $(f).dataset.request = "";
    });
    $("proxy-deliver-form").reset();
    $("proxy-rate-form").reset();
    app().go("proxy-open");
    await renderOpen();
    Object.values(pads).forEach((pad) => pad.clear());
  }

  // -- the steps -----------------------------------------------------------------------------
  async function done(text) {
    toast(text);
    ["proxy-collect-form", "proxy-deliver-form", "proxy-rate-form"].forEach((f) => { $(f).dataset.request = ""; });
    Object.values(pads).forEach((pad) => pad.clear());
    await renderList();
    await renderOpen();
    window.scrollTo(0, 0);
  }

  async function collect(form) {
    const row = (await known()).get(current);
    const p = row.p;
    const full = form.dataset.mode !== "recollect";
    for (const m of (p.item && p.item.materials) || []) {
      if (full && m.required && !(photos.get(m.key) || []).length) {
        toast(T["proxy.need_photo"].replace("{name}", m.name || m.key));
        return;
      }
    }
    const signer = form.elements.signer_name.value.trim();
    if (full && !signer) { toast(T["proxy.need_signer"]); form.elements.signer_name.focus(); return; }
    if (full && !padOf("proxy-sign-collect").signed) { toast(T["proxy.need_sign"]); return; }
    const materials = {};
    for (const [key, files] of photos) {
      if (!files.length) continue;
      materials[key] = [];
      for (const f of files) materials[key].push(await Q.addPhoto(f));
    }
    if (full) {
      const signature = await Q.addPhoto(await padOf("proxy-sign-collect").blob());
      const originals = [...$("proxy-originals").children].map((li) => ({
        name: li.querySelector("[name=original_name]").value.trim(),
        count: Math.max(1, Number(li.querySelector("[name=original_count]").value) || 1),
      })).filter((o) => o.name);
      await Q.enqueue("proxy.collect", {proxy_id: p.id, materials: materials, signature: signature,
                                        signer_name: signer, originals: originals, at: Q.isoNow()});
    } else {
      await Q.enqueue("proxy.recollect", {proxy_id: p.id, materials: materials});
    }
    await Q.enqueue("proxy.submit", {proxy_id: p.id});  // straight on to pre-review
    photos = new Map();
    await done(T["proxy.collected"]);
  }

  async function deliver(form) {
    const row = (await known()).get(current);
    const name = form.elements.recipient_name.value.trim();
    if (!name) { toast(T["proxy.need_recipient"]); form.elements.recipient_name.focus(); return; }
    if (!padOf("proxy-sign-deliver").signed) { toast(T["proxy.need_recipient_sign"]); return; }
    const file = $("proxy-deliver-photo").files[0];
    if (!file) { toast(T["proxy.need_delivery_photo"]); return; }
    const photo = await Q.addPhoto(file);
    const signature = await Q.addPhoto(await padOf("proxy-sign-deliver").blob());
    await Q.enqueue("proxy.deliver", {proxy_id: row.p.id, recipient_name: name, signature: signature,
                                      photo: photo,
                                      originals_returned: !!form.elements.originals_returned.checked});
    form.reset();
    await done(T["proxy.delivered"]);
  }

  async function rateIt(form) {
    const row = (await known()).get(current);
    const chosen = form.querySelector("[name=rating]:checked");
    if (!chosen) { toast(T["proxy.need_rating"]); return; }
    const payload = {proxy_id: row.p.id, rating: Number(chosen.value)};
    const comment = form.elements.comment.value.trim();
    if (comment) payload.comment = comment;
    await Q.enqueue("proxy.rate", payload);
    form.reset();
    await done(T["proxy.rated"]);
  }

  const steps = {"proxy-collect-form": collect, "proxy-deliver-form": deliver, "proxy-rate-form": rateIt};

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    const step = steps[form.getAttribute("id")];
    if (!step) return;
    ev.preventDefault();
    const button = form.querySelector("[type=submit]");
    button.disabled = true;
    try { await step(form); } finally { button.disabled = false; }
  });

  document.addEventListener("click", (ev) => {
    const openButton = ev.target.closest(".proxy-open-button[data-proxy]");
    if (openButton) { open(Number(openButton.dataset.proxy)); return; }
    const resign = ev.target.closest("[data-clear]");
    if (resign) { padOf(resign.dataset.clear).clear(); return; }
    const clearPhotos = ev.target.closest("[data-clear-photos]");
    if (clearPhotos) { photos.set(clearPhotos.dataset.clearPhotos, []); showPhotoCount(clearPhotos.dataset.clearPhotos); return; }
    if (ev.target.closest("#proxy-add-original")) {
      const li = originalRow();
      $("proxy-originals").append(li);
      li.querySelector("input").focus();
      return;
    }
    const remove = ev.target.closest(".remove-original");
    if (remove) remove.closest("li").remove();
  });

  document.addEventListener("change", (ev) => {
    const input = ev.target.closest("[data-photo-for]");
    if (!input) return;
    const key = input.dataset.photoFor;
    photos.set(key, (photos.get(key) || []).concat([...input.files]));
    input.value = "";  // the next shot of the same material adds to these
    showPhotoCount(key);
  });

  document.addEventListener("input", async (ev) => {
    if (ev.target.name !== "signer_name" || current === null) return;
    const row = (await known()).get(current);
    if (row) $("proxy-auth-text").textContent = authText(row.p);
  });

  // -- hooks app.js calls ----------------------------------------------------------------------
  async function render(bundle) {
    data = bundle;
    await renderList();
    if (document.body.dataset.current === "proxy-open") await renderOpen();
  }

  function shown(name) {
    if (name === "proxy") renderList();
    if (name === "proxy-open") requestAnimationFrame(fitPads);
  }

  // a background sync changes what is queued and may bring a fresh bundle
  Q.onChange(async () => {
    data = await Q.getKv("offline", null);
    await renderList();
    if (document.body.dataset.current === "proxy-open") await renderOpen();
  });

  window.FieldProxy = {render, shown, open, known, pads: padOf};
})();
