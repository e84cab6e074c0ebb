/* 矛盾纠纷 in the field app (the disputes app's screens, plugged into the shell by
   fieldwork.views_app from DisputesConfig.field_app_scripts): the grid's screening return
   (排查, items or a nil return), a dispute with its parties (登记纠纷), a mediation session
   (调解记录), the parties' signatures on the agreement (签署协议: one pad per party that has
   not signed, drawn with a finger) and the follow-up of an agreement (回访). Every write is
   an envelope in the app's one queue (screening.create, dispute.create, dispute.session,
   dispute.follow_up, agreement.sign), sent by its sync like any other; a signature is a PNG
   Blob addressed by its SHA-256 (FieldQueue.addPhoto), uploaded before the envelopes, and
   agreement.sign names it by that hash, like the 委托书 signature of proxy.js. The offline
   bundle's `disputes` section (disputes.offline) holds the 13 kinds, the grid's open
   disputes with masked parties and, for an agreed one, its agreement with who has signed,
   and the screening period.

   The screens are built here from the shell's words (the `disputes.*` messages): this file
   carries no words, and text goes in through textContent only (data never becomes markup).
   Loaded after fieldwork's screens and before app.js, whose navigation shows a section by
   its data-screen and goes back by its data-back; FieldApp is used at event time. */
(function () {
  "use strict";
  const Q = window.FieldQueue;
  const S = window.FieldScreens;
  const T = S.T;
  const el = S.el;
  const $ = (id) => document.getElementById(id);
  const t = (key) => T["disputes." + key] || key;
  const KINDS = ["screening.create", "dispute.create", "dispute.session", "dispute.follow_up",
                 "agreement.sign"];
  const RISKS = ["low", "medium", "high"];

  let data = null;      // the offline bundle
  let residentsOf = null;  // the bundle version the residents' lists were filled from
  let padsOf = "";      // which agreement and parties the signature pads are drawn for
  let pads = new Map();  // party id → its signature pad

  function app() { return window.FieldApp; }
  function toast(text) { if (app()) app().toast(text); }
  function section() { return (data && data.disputes) || {kinds: [], open: [], labels: {}}; }
  function label(group, value) { return ((section().labels || {})[group] || {})[value] || value; }

  function fitPads() {
    pads.forEach((pad, id) => {
      const canvas = document.querySelector("#dispute-sign-pads [data-party='" + id + "'] canvas");
      if (canvas && canvas.getClientRects().length) pad.fit();
    });
  }

  // -- building the screens ------------------------------------------------------------------
  function field(text, control) {
    const node = el("label", {}, text);
    node.append(control);
    return node;
  }

  function screen(name, title, back) {
    const node = el("section", {className: "screen disputes-screen", "data-screen": name});
    node.hidden = true;
    if (back) node.setAttribute("data-back", back);
    node.append(el("h2", {}, t(title)));
    return node;
  }

  function submit(text) { return el("button", {type: "submit", className: "big-button"}, t(text)); }

  function kindSelect() { return el("select", {name: "kind", required: true, "data-fill": "kinds"}); }
  function riskSelect() { return el("select", {name: "risk", required: true, "data-fill": "risks"}); }

  function itemBlock() {
    const box = el("fieldset", {className: "dispute-block dispute-item"});
    box.append(
      el("legend", {}, t("item")),
      field(t("kind"), kindSelect()), field(t("risk"), riskSelect()),
      field(t("subject"), el("input", {name: "subject", maxLength: 200, required: true})),
      field(t("account"), el("textarea", {name: "account", rows: 2})),
      field(t("amount"), el("input", {name: "amount", type: "number", min: "0", step: "0.01",
                                      inputMode: "decimal"})),
      field(t("applicant"), el("input", {name: "applicant", maxLength: 100, required: true,
                                         autocomplete: "off"})),
      field(t("respondent"), el("input", {name: "respondent", maxLength: 100,
                                          autocomplete: "off"})),
      el("button", {type: "button", className: "wide-button dispute-remove", "data-remove": "1"},
         t("remove")));
    fillBlock(box);
    return box;
  }

  function partyBlock(role) {
    const box = el("fieldset", {className: "dispute-block dispute-party"});
    const roleSelect = el("select", {name: "role", "data-fill": "roles"});
    box.append(
      el("legend", {}, t("party")),
      field(t("party_role"), roleSelect),
      field(t("party_resident"), el("select", {name: "resident_id", "data-fill": "residents"})),
      field(t("party_name"), el("input", {name: "name", maxLength: 100, autocomplete: "off"})),
      field(t("party_phone"), el("input", {name: "phone", type: "tel", inputMode: "tel",
                                           maxLength: 20, autocomplete: "off"})),
      el("button", {type: "button", className: "wide-button dispute-remove", "data-remove": "1"},
         t("remove")));
    roleSelect.dataset.want = role || "other";  // applied once the roles are filled in
    fillBlock(box);
    return box;
  }

  function build() {
    const main = $("app");
    const menu = screen("disputes", "title");
    const tiles = el("nav", {className: "tiles disputes-tiles"});
    [["dispute-screening", "go.screening"], ["dispute-new", "go.new"],
     ["dispute-session", "go.session"], ["dispute-sign", "go.sign"],
     ["dispute-followup", "go.followup"]].forEach(([go, text]) => {
      tiles.append(el("button", {type: "button", "data-go": go}, t(text)));
    });
    menu.append(el("p", {className: "hint", id: "disputes-screening-state"}), tiles,
                el("h3", {}, t("open")), el("ul", {className: "disputes-open", id: "disputes-open"}));

    const screening = screen("dispute-screening", "screening.title", "disputes");
    const sForm = el("form", {id: "dispute-screening-form", noValidate: true});
    const nil = el("input", {type: "checkbox", name: "nil", id: "dispute-nil"});
    const nilRow = el("label", {className: "check-row"});
    nilRow.append(nil, el("span", {}, t("nil")));
    const items = el("fieldset", {className: "dispute-items", id: "dispute-items"});
    items.append(el("div", {id: "dispute-item-list"}),
                 el("button", {type: "button", className: "wide-button", id: "dispute-add-item"},
                    t("add_item")));
    sForm.append(nilRow, items, field(t("note"), el("textarea", {name: "note", rows: 2})),
                 submit("submit_screening"));
    screening.append(el("p", {className: "hint", id: "dispute-period"}), sForm);

    const fresh = screen("dispute-new", "new.title", "disputes");
    const nForm = el("form", {id: "dispute-new-form", noValidate: true});
    nForm.append(
      field(t("kind"), kindSelect()), field(t("risk"), riskSelect()),
      field(t("source"), el("select", {name: "source", "data-fill": "sources"})),
      field(t("subject"), el("input", {name: "subject", maxLength: 200, required: true})),
      field(t("account"), el("textarea", {name: "account", rows: 3})),
      field(t("amount"), el("input", {name: "amount", type: "number", min: "0", step: "0.01",
                                      inputMode: "decimal"})),
      el("h3", {}, t("parties")), el("div", {id: "dispute-party-list"}),
      el("button", {type: "button", className: "wide-button", id: "dispute-add-party"},
         t("add_party")),
      submit("submit_new"));
    fresh.append(nForm);

    const session = screen("dispute-session", "session.title", "disputes");
    const mForm = el("form", {id: "dispute-session-form", noValidate: true});
    mForm.append(
      field(t("dispute"), el("select", {name: "dispute_id", required: true, id: "dispute-session-which"})),
      field(t("held_at"), el("input", {name: "held_at", type: "datetime-local", required: true})),
      field(t("place"), el("input", {name: "place", maxLength: 200, required: true})),
      field(t("attendees"), el("textarea", {name: "attendees", rows: 2, required: true})),
      field(t("notes"), el("textarea", {name: "notes", rows: 5, required: true})),
      submit("submit_session"));
    session.append(el("p", {className: "hint", id: "dispute-session-none", hidden: true},
                      t("no_session")), mForm);

    const sign = screen("dispute-sign", "sign.title", "disputes");
    const gForm = el("form", {id: "dispute-sign-form", noValidate: true});
    const terms = el("div", {className: "dispute-block dispute-agreement", id: "dispute-sign-agreement"});
    gForm.append(
      field(t("dispute"), el("select", {name: "dispute_id", required: true, id: "dispute-sign-which"})),
      terms, el("div", {id: "dispute-sign-pads"}), submit("submit_sign"));
    sign.append(el("p", {className: "hint", id: "dispute-sign-none", hidden: true}, t("no_sign")),
                gForm);

    const follow = screen("dispute-followup", "followup.title", "disputes");
    const fForm = el("form", {id: "dispute-followup-form", noValidate: true});
    fForm.append(
      field(t("dispute"), el("select", {name: "dispute_id", required: true, id: "dispute-followup-which"})),
      field(t("honoured"), el("select", {name: "honoured", required: true, "data-fill": "honoured"})),
      field(t("followup_note"), el("textarea", {name: "note", rows: 3})),
      submit("submit_followup"));
    follow.append(el("p", {className: "hint", id: "dispute-followup-none", hidden: true},
                     t("no_followup")), fForm);

    // the home screen's tile, before the sync tile
    const home = document.querySelector("[data-screen=home] .tiles");
    if (home) {
      const tile = el("button", {type: "button", "data-go": "disputes"}, t("tile") + " ");
      tile.append(el("b", {id: "disputes-count"}));
      const sync = home.querySelector("[data-go=sync]");
      home.insertBefore(tile, sync);
    }
    const sync = document.querySelector("[data-screen=sync]");
    [menu, screening, fresh, session, sign, follow].forEach((node) => main.insertBefore(node, sync));
  }

  // -- filling the screens from the bundle ---------------------------------------------------
  /* options from [value, label] rows, keeping the choice made when it is still offered */
  function fillSelect(select, rows, blank) {
    const keep = select.value || select.dataset.want || "";
    select.replaceChildren();
    if (blank !== undefined) select.append(el("option", {value: ""}, blank));
    rows.forEach(([v, text]) => select.append(el("option", {value: String(v)}, text)));
    if (keep && [...select.options].some((o) => o.value === keep)) select.value = keep;
  }

  function fillers() {
    const d = section();
    const labels = d.labels || {};
    const rows = {
      kinds: d.kinds.map((k) => [k[0], k[1]]),
      risks: RISKS.map((r) => [r, label("risk", r)]),
      roles: Object.entries(labels.role || {}),
      sources: Object.entries(labels.source || {}),
      honoured: Object.entries(labels.honoured || {}),
    };
    return rows;
  }

  function residentRows() {
    if (!data) return [];
    const houses = new Map(data.houses.map((h) => [h.i, h]));
    const buildings = new Map(data.buildings.map((b) => [b.i, b]));
    return data.residents.map((r) => {
      const h = houses.get(r.h);
      const b = h ? buildings.get(h.b) : undefined;
      return [r.i, r.n + " · " + (b ? b.n + " " : "") + (h ? h.n : "")];
    });
  }

  function fillBlock(root, residentsToo) {
    const rows = fillers();
    root.querySelectorAll("select[data-fill]").forEach((select) => {
      const what = select.getAttribute("data-fill");
      if (what === "residents") {
        if (residentsToo !== false) fillSelect(select, residentRows(), "—");
      } else {
        fillSelect(select, rows[what] || []);
      }
    });
  }

  async function queued() {
    return Q.db.queue.filter((e) => KINDS.includes(e.kind)).sortBy("seq");
  }

  function thisPeriod(e) {
    const sc = section().screening;
    return sc && e.kind === "screening.create" && (e.device_time || "").slice(0, 10) >= sc.start;
  }

  async function render() {
    data = await Q.getKv("offline", null);
    const d = section();
    const entries = await queued();
    const pending = entries.filter((e) => e.state === "pending");
    const waiting = new Map();  // dispute id → the kinds waiting for it
    const ofAgreement = new Map(d.open.filter((r) => r.a).map((r) => [r.a.i, r.i]));
    pending.forEach((e) => {
      const id = e.payload && (e.kind === "agreement.sign" ? ofAgreement.get(e.payload.agreement_id)
                                                           : e.payload.dispute_id);
      if (id !== undefined && !(waiting.get(id) || []).includes(e.kind)) {
        waiting.set(id, (waiting.get(id) || []).concat([e.kind]));
      }
    });

    // selects (the residents only when the bundle changed: a grid holds thousands)
    const fresh = !!data && residentsOf !== data.v;
    document.querySelectorAll(".disputes-screen").forEach((node) => fillBlock(node, fresh));
    if (data) residentsOf = data.v;

    // the screening period and whether the grid screened it
    const sc = d.screening;
    const local = entries.some((e) => thisPeriod(e) && e.state !== "failed" && e.state !== "discarded");
    let state = "";
    if (sc) {
      const when = t("period." + sc.period) + "（" + sc.start + t("period.from") + "）";
      const done = sc.done ? (sc.nil ? t("screened_nil") : t("screened"))
        : local ? t("screened_local") : t("not_screened");
      state = when + " · " + done;
      $("dispute-screening-form").hidden = !!sc.done || local || sc.may === false;
      if (sc.may === false && !sc.done) state += " · " + t("may_not_screen");
    }
    $("disputes-screening-state").textContent = state;
    $("dispute-period").textContent = state;
    document.body.dataset.disputesScreened = sc && (sc.done || local) ? "1" : "0";

    // the open disputes
    const list = $("disputes-open");
    list.replaceChildren();
    pending.filter((e) => e.kind === "dispute.create").forEach((e) => {
      const li = el("li", {className: "dispute-row pending", "data-key": e.client_key});
      li.append(el("b", {}, e.payload.subject), el("span", {className: "state"}, t("pending_new")));
      list.append(li);
    });
    d.open.forEach((row) => {
      const li = el("li", {className: "dispute-row risk-" + row.r, "data-dispute": row.i});
      const kind = d.kinds.find((k) => k[0] === row.k);
      li.append(el("b", {}, row.no + " · " + row.t),
                el("span", {}, (kind ? kind[1] : row.k) + " · " + label("risk", row.r)),
                el("span", {className: "parties"}, (row.p || []).map((p) => label("role", p[0]) + " " + p[1]).join("，")),
                el("span", {className: "state"}, label("state", row.s) + " · " + label("level", row.l)));
      (waiting.get(row.i) || []).forEach((k) => {
        li.append(el("span", {className: "waiting"},
                     k === "dispute.session" ? t("pending_session")
                       : k === "agreement.sign" ? t("pending_sign") : t("pending_followup")));
      });
      list.append(li);
    });
    if (!list.children.length) list.append(el("li", {className: "empty"}, t("none_open")));
    const due = d.open.filter((r) => r.m || r.f || unsigned(r, pending).length).length;
    const count = $("disputes-count");
    if (count) count.textContent = due ? String(due) : "";

    // which disputes a session / a follow-up may be recorded for
    const option = (r) => [r.i, r.no + " " + r.t];
    const sessions = d.open.filter((r) => r.m);
    fillSelect($("dispute-session-which"), sessions.map(option));
    $("dispute-session-form").hidden = !sessions.length;
    $("dispute-session-none").hidden = !!sessions.length;
    renderSign(pending);
    const follows = d.open.filter((r) => r.f);
    fillSelect($("dispute-followup-which"), follows.map(option));
    $("dispute-followup-form").hidden = !follows.length;
    $("dispute-followup-none").hidden = !!follows.length;
    document.body.dataset.disputesReady = "1";
  }

  /* the parties of a dispute's agreement who still have to sign on this phone (not signed on
     the server, no signature of theirs waiting in the queue); none unless the user may take
     the signatures */
  function unsigned(row, pending) {
    const a = row.a;
    if (!a || !a.w) return [];
    const queued = new Set(pending.filter((e) => e.kind === "agreement.sign" &&
                                          e.payload.agreement_id === a.i)
                           .map((e) => e.payload.party_id));
    return (a.p || []).filter((p) => !p[3] && !queued.has(p[0]));
  }

  function renderSign(pending) {
    const rows = section().open.filter((r) => unsigned(r, pending).length);
    const which = $("dispute-sign-which");
    fillSelect(which, rows.map((r) => [r.i, r.no + " " + r.t]));
    $("dispute-sign-form").hidden = !rows.length;
    $("dispute-sign-none").hidden = !!rows.length;
    const row = rows.find((r) => String(r.i) === which.value);
    const box = $("dispute-sign-agreement");
    const list = $("dispute-sign-pads");
    if (!row) { box.replaceChildren(); list.replaceChildren(); pads = new Map(); padsOf = ""; return; }
    const a = row.a;
    box.replaceChildren(
      el("h3", {}, t("agreement") + " " + a.no),
      el("p", {className: "dispute-terms"}, a.t),
      ...(a.by ? [el("p", {className: "hint"}, t("perform_by") + "：" + a.by)] : []),
      el("p", {className: "hint"}, (a.p || []).map((p) =>
        label("role", p[1]) + " " + p[2] + (p[3] ? "（" + t("signed") + "）" : "")).join("，")));
    const todo = unsigned(row, pending);
    const key = a.i + ":" + todo.map((p) => p[0]).join(",");
    if (key === padsOf) return;  // the same pads: keep what has been drawn
    padsOf = key;
    pads = new Map();
    list.replaceChildren(...todo.map((p) => {
      const sign = el("div", {className: "sign-box", "data-party": p[0]});
      const canvas = el("canvas", {className: "signature"});
      canvas.setAttribute("aria-label", t("sign_party") + " " + label("role", p[1]) + " " + p[2]);
      sign.append(el("span", {className: "sign-label"},
                     t("sign_party") + "：" + label("role", p[1]) + " " + p[2]),
                  el("span", {className: "hint"}, t("sign_here")), canvas,
                  el("button", {type: "button", className: "resign", "data-resign": p[0]}, t("resign")));
      pads.set(p[0], S.signaturePad(canvas));
      return sign;
    }));
    requestAnimationFrame(fitPads);
  }

  // -- the forms -----------------------------------------------------------------------------
  function value(root, name) {
    const node = root.querySelector("[name=" + name + "]");
    return node && typeof node.value === "string" ? node.value.trim() : "";
  }

  function localInput(d) {
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function money(root, out) {
    const amount = value(root, "amount");
    if (amount) out.amount = amount;
    return out;
  }

  function item(box, now) {
    const parties = [{role: "applicant", name: value(box, "applicant")}];
    if (value(box, "respondent")) parties.push({role: "respondent", name: value(box, "respondent")});
    const out = {kind: value(box, "kind"), risk: value(box, "risk"), subject: value(box, "subject"),
                 reported_at: now, parties: parties};
    if (value(box, "account")) out.account = value(box, "account");
    return money(box, out);
  }

  function party(box) {
    const out = {role: value(box, "role") || "other"};
    const resident = value(box, "resident_id");
    if (resident) { out.resident_id = Number(resident); return out; }
    if (!value(box, "name")) return null;
    out.name = value(box, "name");
    if (value(box, "phone")) out.phone = value(box, "phone");
    return out;
  }

  async function saved(form, rebuild) {
    form.reset();
    if (rebuild) rebuild();
    toast(T.queued);
    await render();
    if (app()) app().go("disputes");
  }

  function resetItems() {
    $("dispute-item-list").replaceChildren(itemBlock());
    $("dispute-items").disabled = false;
    $("dispute-items").hidden = false;
  }

  function resetParties() {
    $("dispute-party-list").replaceChildren(partyBlock("applicant"), partyBlock("respondent"));
  }

  const forms = {
    async "dispute-screening-form"(form) {
      const nil = form.elements.nil.checked;
      const now = Q.isoNow();
      const payload = {grid_id: data.grid.i, screened_at: now, nil: nil};
      if (value(form, "note")) payload.note = value(form, "note");
      if (!nil) {
        payload.items = [...form.querySelectorAll(".dispute-item")].map((box) => item(box, now));
        if (!payload.items.length) { toast(t("need_items")); return; }
      }
      await Q.enqueue("screening.create", payload);
      await saved(form, resetItems);
    },
    async "dispute-new-form"(form) {
      const parties = [...form.querySelectorAll(".dispute-party")].map(party).filter(Boolean);
      if (!parties.length) { toast(t("need_party")); return; }
      const payload = money(form, {grid_id: data.grid.i, kind: value(form, "kind"),
        risk: value(form, "risk"), source: value(form, "source") || "resident",
        subject: value(form, "subject"), reported_at: Q.isoNow(), parties: parties});
      if (value(form, "account")) payload.account = value(form, "account");
      await Q.enqueue("dispute.create", payload);
      await saved(form, resetParties);
    },
    async "dispute-session-form"(form) {
      await Q.enqueue("dispute.session", {
        dispute_id: Number(value(form, "dispute_id")),
        held_at: value(form, "held_at") === form.elements.held_at.dataset.auto ? Q.isoNow()
          : Q.isoNow(new Date(value(form, "held_at"))),
        place: value(form, "place"), attendees: value(form, "attendees"),
        notes: value(form, "notes")});
      await saved(form);
    },
    async "dispute-sign-form"(form) {
      const id = Number(value(form, "dispute_id"));
      const row = section().open.find((r) => r.i === id);
      const ready = [...pads].filter(([, pad]) => pad.signed);
      if (!row || !row.a || !ready.length) { toast(t("need_sign")); return; }
      for (const [party, pad] of ready) {
        const hash = await Q.addPhoto(await pad.blob());
        await Q.enqueue("agreement.sign", {agreement_id: row.a.i, party_id: party,
                                           image_hash: hash, method: "phone",
                                           signed_at: Q.isoNow()});
      }
      padsOf = "";
      await saved(form);
    },
    async "dispute-followup-form"(form) {
      const payload = {dispute_id: Number(value(form, "dispute_id")), at: Q.isoNow(),
                       honoured: value(form, "honoured")};
      if (value(form, "note")) payload.note = value(form, "note");
      await Q.enqueue("dispute.follow_up", payload);
      await saved(form);
    },
  };

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    const id = form.getAttribute("id");
    if (!forms[id]) return;
    ev.preventDefault();
    if (!data) { toast(T.no_data); return; }
    if (!form.checkValidity()) { toast(T.required); return; }
    const button = form.querySelector("[type=submit]");
    button.disabled = true;
    try { await forms[id](form); } finally { button.disabled = false; }
  });

  document.addEventListener("click", (ev) => {
    const resign = ev.target.closest("[data-resign]");
    if (resign) {
      const pad = pads.get(Number(resign.dataset.resign));
      if (pad) pad.clear();
      return;
    }
    const remove = ev.target.closest("[data-remove]");
    if (remove) {
      const block = remove.closest(".dispute-block");
      const list = block.parentNode;
      if (list.children.length > 1) block.remove();
      return;
    }
    const go = ev.target.closest("[data-go]");
    if (go && go.dataset.go === "dispute-sign") requestAnimationFrame(fitPads);  // shown by then
    if (go && go.dataset.go === "dispute-session") {
      // now, to the minute: left as it is, the session is saved at the moment of saving
      const when = document.querySelector("#dispute-session-form [name=held_at]");
      if (!when.value || when.value === when.dataset.auto) {
        when.value = when.dataset.auto = localInput(new Date());
      }
    }
  });

  function start() {
    build();
    resetItems();
    resetParties();
    $("dispute-add-item").addEventListener("click", () => $("dispute-item-list").append(itemBlock()));
    $("dispute-add-party").addEventListener("click", () => $("dispute-party-list").append(partyBlock("other")));
    $("dispute-sign-which").addEventListener("change", () => {
      queued().then((q) => renderSign(q.filter((e) => e.state === "pending")))
        .catch((e) => console.error(e));
    });
    window.addEventListener("resize", () => requestAnimationFrame(fitPads));
    $("dispute-nil").addEventListener("change", (ev) => {
      $("dispute-items").disabled = ev.target.checked;  // a disabled field is not validated
      $("dispute-items").hidden = ev.target.checked;
    });
    // the sync screen names these writes like the others
    KINDS.forEach((k) => { if (!T["proxy.kind." + k]) T["proxy.kind." + k] = t("kind." + k); });
    Q.onChange(() => { render().catch((e) => console.error(e)); });
    render().catch((e) => console.error(e));
  }

  window.FieldDisputes = {render};
  start();
})();
