// The draft form's list rows (aliases, materials, steps, FAQ): add a blank row from the
// list's <template>, remove a row in place. Without JavaScript the "add" buttons ask the
// server for blank rows and a cleared row is dropped on save, so this only saves a trip.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form.catalogue-form [data-remove-row]").forEach((b) => {
      b.hidden = false;
    });
  });
  document.addEventListener("click", (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target) return;
    const add = target.closest("button[data-add-row]");
    if (add) {
      const list = add.getAttribute("data-add-row");
      const tpl = document.getElementById("tpl-" + list);
      const rows = document.querySelector('[data-rows="' + list + '"]');
      if (!(tpl instanceof HTMLTemplateElement) || !rows) return;
      ev.preventDefault();
      const row = tpl.content.firstElementChild.cloneNode(true);
      row.querySelectorAll("[data-remove-row]").forEach((b) => { b.hidden = false; });
      rows.appendChild(row);
      const first = row.querySelector("input, textarea, select");
      if (first) first.focus();
      return;
    }
    const remove = target.closest("button[data-remove-row]");
    if (remove) {
      const row = remove.closest("[data-row]");
      if (row) row.remove();
    }
  });
})();
