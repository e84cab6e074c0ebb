// The service hall's small behaviours, wired by data attributes (the CSP forbids inline
// script). Every page works without it: the search box is a plain GET form.
//   form[data-hall-search]           results follow the typing (JSON from data-json)
//   input[type=checkbox][data-autosubmit]  submit the form when ticked or unticked
//   input[type=file][data-upload-on-pick]  upload the file as soon as it is picked
(function () {
  "use strict";
  const form = document.querySelector("form[data-hall-search]");
  const results = document.querySelector("[data-results]");
  if (form && results) {
    const input = form.querySelector("input[name=q]");
    const list = results.querySelector("[data-list]");
    const count = results.querySelector("[data-count]");
    const pager = results.querySelector("[data-pager]");
    const popular = document.querySelector(".popular");
    const guide = results.getAttribute("data-guide") || "";
    const token = results.getAttribute("data-t") || "";
    let timer = 0;
    let inflight = null;

    const text = (tag, cls, value) => {
      const el = document.createElement(tag);
      if (cls) el.className = cls;
      el.textContent = value; // data goes in as text, never as markup
      return el;
    };

    const render = (data) => {
      list.replaceChildren();
      for (const item of data.items) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = guide.replace("CODE", encodeURIComponent(item.code))
          + (token ? "?t=" + encodeURIComponent(token) : "");
        a.append(text("span", "item-name", item.name), text("span", "item-meta", item.department));
        const badges = document.createElement("span");
        badges.className = "badges";
        if (item.proxy) badges.append(text("span", "badge-proxy", "可代办"));
        if (item.online) badges.append(text("span", "badge-online", "可网上预审"));
        a.append(badges);
        li.append(a);
        list.append(li);
      }
      if (!data.items.length) {
        list.append(text("li", "none", "没有找到相关事项。换个说法试试，比如“老年证”“低保”，或拨打网格员电话。"));
      }
      const pages = Math.max(1, Math.ceil(data.total / data.page_size));
      count.textContent = "共 " + data.total + " 项" + (pages > 1 ? " · 第 1/" + pages + " 页" : "");
      if (pager) pager.hidden = true; // the plain form's pages belong to the plain results
    };

    const search = () => {
      const params = new URLSearchParams(new FormData(form));
      params.delete("page");
      if (inflight) inflight.abort(); // the latest typing wins
      inflight = new AbortController();
      fetch(form.getAttribute("data-json") + "?" + params.toString(),
            {signal: inflight.signal, headers: {Accept: "application/json"}})
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
        .then((data) => {
          render(data);
          if (popular) popular.hidden = Boolean(params.get("q"));
          history.replaceState(null, "", "?" + params.toString());
        })
        .catch((e) => { if (e.name !== "AbortError") count.textContent = "网络不畅，请点“搜索”重试"; });
    };

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, 250);
    });
  }

  document.addEventListener("change", (ev) => {
    const el = ev.target;
    if (!(el instanceof HTMLInputElement) || !el.form) return;
    if (el.type === "checkbox" && el.hasAttribute("data-autosubmit")) el.form.requestSubmit();
    if (el.type === "file" && el.hasAttribute("data-upload-on-pick") && el.files.length) {
      el.form.requestSubmit();
    }
  });
})();
