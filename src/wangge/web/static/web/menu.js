// The header's menu button on narrow screens. Loaded in <head> without defer so the `js`
// class is on <html> before the first paint: without script the menu simply stays open
// (wrapped links), with script it folds behind the 菜单 button until tapped.
//   button[data-menu-toggle][aria-controls=ID]   opens and closes the element #ID
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  const toggles = () => document.querySelectorAll("button[data-menu-toggle]");
  const setOpen = (button, open) => {
    const menu = document.getElementById(button.getAttribute("aria-controls") || "");
    if (!menu) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  };
  document.addEventListener("click", (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target) return;
    const button = target.closest("button[data-menu-toggle]");
    if (button) {
      setOpen(button, button.getAttribute("aria-expanded") !== "true");
      return;
    }
    // a tap outside an open menu closes it
    for (const b of toggles()) {
      const menu = document.getElementById(b.getAttribute("aria-controls") || "");
      if (menu && !menu.contains(target) && b.getAttribute("aria-expanded") === "true") {
        setOpen(b, false);
      }
    }
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape") return;
    for (const b of toggles()) {
      if (b.getAttribute("aria-expanded") === "true") {
        setOpen(b, false);
        b.focus();
      }
    }
  });
})();
