/* The field app's offline queue (IndexedDB through Dexie) and its sync.
   Every write is an envelope {client_key, kind, payload, base_version?, device_time} kept in
   order (seq); photos are Blobs addressed by their SHA-256 and uploaded before the envelopes
   that name them. Sync sends pending envelopes in order, keeps each outcome, and refreshes
   the offline data when its version changed. A replayed key never makes a second record
   (the server remembers it), so retrying after a lost answer is always safe. */
(function () {
  "use strict";
  const API = "/api/v1/fieldwork/";
  const BATCH = 250;  // envelopes per call (the server takes 500; patrol points are long)
  const db = new Dexie("wangge-field");
  db.version(1).stores({
    queue: "++seq, client_key, state",  // state: pending | done | failed | conflict | resolved
    blobs: "sha256, uploaded",          // uploaded: 0 | 1
    kv: "k",                            // offline data, patrol in progress, last sync …
  });

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  /* ISO 8601 with the phone's offset, e.g. 2026-05-12T08:31:05+08:00 */
  function isoNow(d) {
    d = d || new Date();
    const pad = (n) => String(Math.abs(n)).padStart(2, "0");
    const off = -d.getTimezoneOffset();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
      (off >= 0 ? "+" : "-") + pad(Math.floor(Math.abs(off) / 60)) + ":" + pad(Math.abs(off) % 60);
  }

  function today() { return isoNow().slice(0, 10); }

  async function getKv(k, fallback) {
    const row = await db.kv.get(k);
    return row ? row.v : fallback;
  }
  function setKv(k, v) { return db.kv.put({k: k, v: v}); }

  const listeners = [];
  function changed() { listeners.forEach((f) => { try { f(); } catch (e) { console.error(e); } }); }

  /* Queue one write; answers its client key (other envelopes may refer to it). */
  async function enqueue(kind, payload, opts) {
    opts = opts || {};
    const key = opts.client_key || crypto.randomUUID();
    await db.queue.add({client_key: key, kind: kind, payload: payload,
                        base_version: opts.base_version || null, device_time: isoNow(),
                        state: "pending", queued_at: Date.now()});
    changed();
    schedule(0);
    return key;
  }

  async function sha256Hex(blob) {
    const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    return Array.from(new Uint8Array(digest)).map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  /* Keep a photo for upload; answers its hash for the envelope's photo_hashes. */
  async function addPhoto(blob) {
    const sha = await sha256Hex(blob);
    if (!(await db.blobs.get(sha))) {
      await db.blobs.put({sha256: sha, blob: blob, type: blob.type, uploaded: 0});
    }
    return sha;
  }

  async function api(method, path, body, headers) {
    const init = {method: method, credentials: "same-origin",
                  headers: Object.assign({"X-CSRFToken": csrf(), "Accept": "application/json"},
                                         headers || {})};
    if (body !== undefined) {
      if (body instanceof FormData) { init.body = body; }
      else { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
    }
    return fetch(API + path, init);
  }

  class HttpError extends Error {
    constructor(status, text) { super("HTTP " + status + (text ? ": " + text : "")); this.status = status; }
  }

  async function uploadPhotos() {
    const waiting = await db.blobs.where("uploaded").equals(0).toArray();
    for (const row of waiting) {
      let r = await api("HEAD", "uploads/" + row.sha256);
      if (r.status === 404) {
        const form = new FormData();
        form.append("file", row.blob, "photo." + ((row.type || "image/jpeg").split("/")[1] || "jpg"));
        r = await api("POST", "uploads", form);
        if (r.ok) {
          const got = await r.json();
          if (got.sha256 !== row.sha256) throw new Error("upload hash mismatch");
        }
      }
      if (r.status === 422) {  // not a picture the server takes: the envelopes will say so
        await db.blobs.update(row.sha256, {uploaded: -1});
        continue;
      }
      if (!r.ok) throw new HttpError(r.status);
      await db.blobs.update(row.sha256, {uploaded: 1});
    }
  }

  async function record(chunk, outcomes) {
    const byKey = new Map(outcomes.map((o) => [o.client_key, o]));
    await db.transaction("rw", db.queue, async () => {
      for (const e of chunk) {
        const o = byKey.get(e.client_key);
        if (!o) continue;
        const state = (o.status === "created" || o.status === "replayed") ? "done"
          : o.status === "conflict" ? "conflict" : "failed";
        await db.queue.update(e.seq, {state: state, outcome: o, synced_at: Date.now()});
      }
    });
    changed();
  }

  /* One call; a call refused as a whole (413 too big, 422 a malformed envelope) is sent
     again one envelope at a time, so one bad write never blocks the queue behind it. */
  async function sendChunk(chunk, last) {
    // the offline data's version costs the server a read of the grid: on the last call only
    const r = await api("POST", "sync" + (last ? "" : "?version=false"), {envelopes: chunk.map((e) => ({
      client_key: e.client_key, kind: e.kind, payload: e.payload,
      base_version: e.base_version, device_time: e.device_time}))});
    if ((r.status === 413 || r.status === 422) && chunk.length > 1) {
      let version = null;
      for (let i = 0; i < chunk.length; i++) {
        version = await sendChunk([chunk[i]], last && i === chunk.length - 1);
      }
      return version;
    }
    if (r.status === 413 || r.status === 422) {
      const detail = await r.json().catch(() => ({detail: []}));
      await record(chunk, [{client_key: chunk[0].client_key, status: "invalid",
                            errors: Array.isArray(detail.detail) ? detail.detail : []}]);
      return null;
    }
    if (!r.ok) throw new HttpError(r.status, r.status === 401 || r.status === 403 ? "login" : "");
    const answer = await r.json();
    await record(chunk, answer.outcomes);
    return answer.offline_version;
  }

  async function sendEnvelopes() {
    let version = null;
    for (;;) {
      const batch = await db.queue.where("state").equals("pending").sortBy("seq");
      if (!batch.length) return version;
      version = await sendChunk(batch.slice(0, BATCH), batch.length <= BATCH);
    }
  }

  async function refreshData(force) {
    const have = force ? null : await getKv("offline", null);
    const r = await api("GET", "offline" + (have ? "?since=" + encodeURIComponent(have.v) : ""));
    if (!r.ok) throw new HttpError(r.status, r.status === 401 || r.status === 403 ? "login" : "");
    const data = await r.json();
    if (!data.unchanged) { await setKv("offline", data); changed(); }
    return data;
  }

  let syncing = null;
  let retryTimer = null;
  let failures = 0;

  function schedule(delay) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => { if (navigator.onLine) sync().catch(() => {}); }, delay);
  }

  /* One sync: photos, envelopes in order, then the offline data. Concurrent calls share it. */
  function sync() {
    if (syncing) return syncing;
    syncing = (async () => {
      try {
        await uploadPhotos();
        const version = await sendEnvelopes();
        const have = await getKv("offline", null);
        if (!have || !version || version !== have.v) await refreshData(false);
        failures = 0;
        await setKv("last_sync", Date.now());
        await setKv("last_error", "");
      } catch (e) {
        failures += 1;
        await setKv("last_error", String(e.message || e));
        // back off: 2 s, 4 s … at most 5 minutes; the online event and the button start sooner
        schedule(Math.min(300000, 1000 * Math.pow(2, failures)));
        throw e;
      } finally {
        syncing = null;
        changed();
      }
    })();
    return syncing;
  }

  window.addEventListener("online", () => { failures = 0; schedule(0); });

  async function counts() {
    return {
      pending: await db.queue.where("state").equals("pending").count(),
      failed: await db.queue.where("state").anyOf("failed", "conflict").count(),
    };
  }

  window.FieldQueue = {db, enqueue, addPhoto, sync, refreshData, counts, getKv, setKv, isoNow,
                       today, onChange: (f) => listeners.push(f), schedule};
})();
