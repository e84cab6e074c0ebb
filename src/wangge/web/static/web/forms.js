// Small behaviours of server-rendered pages, wired by data attributes instead of inline
// script or on* attributes (the Content-Security-Policy forbids both):
//   button[data-locate]          fill #id_lng / #id_lat from the device's position
//   form[data-submit-once]       disable its submit button after the first submit
//   select[data-autosubmit]      submit the form when the choice changes
//   button[data-print]           print the page
//   form[data-confirm]           ask "data-confirm" first; cancelling sends nothing
(function () {
  "use strict";
  document.addEventListener("click", (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target) return;
    if (target.closest("button[data-print]")) {
      window.print();
      return;
    }
    const locate = target.closest("button[data-locate]");
    if (locate && navigator.geolocation) {
      navigator.geolocation.getCurrentPosition((p) => {
        const lng = document.getElementById("id_lng");
        const lat = document.getElementById("id_lat");
        if (lng) lng.value = p.coords.longitude.toFixed(7);
        if (lat) lat.value = p.coords.latitude.toFixed(7);
      });
    }
  });
  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement)) return;
    const question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      ev.preventDefault(); // a destructive step needs a second yes
      return;
    }
    if (!form.hasAttribute("data-submit-once")) return;
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true; // one tap, one case
  });
  document.addEventListener("change", (ev) => {
    const select = ev.target;
    if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit") && select.form) {
      select.form.requestSubmit();
    }
  });
})();
