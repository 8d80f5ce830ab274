/* Keyboard and screen-reader fixes for the course website (copied into _static by
   tools/build_site.py). The theme's markup is left as it is; this only adds what it lacks:
   - the colour-mode button says which mode is on;
   - the toolbar buttons keep focus when pressed (the theme drops it);
   - outputs and wide equations that scroll can be focused, so the keyboard can scroll them;
   - the search page announces how many pages it found;
   - focus returns to the button that opened the search or the chapter list when it closes. */
(function () {
  "use strict";
  // The theme's own words for each mode (its icons' titles, so the name holds what is shown).
  const MODES = { light: "Light", dark: "Dark", auto: "System Settings" };

  function nameColourButtons() {
    const mode = document.documentElement.dataset.mode || "auto";
    for (const b of document.querySelectorAll(".theme-switch-button")) {
      b.setAttribute("aria-label", `Colour mode: ${MODES[mode] || mode}. Change colour mode`);
      b.removeAttribute("data-bs-title");
    }
  }

  function keepFocusOnToolbarButtons() {
    // sphinx-book-theme blurs these buttons when they are pressed, so focus falls to the page
    // (22 Tabs to get back). Where nothing else took focus (a dialog that opened keeps it),
    // give it back to the button. A listener on the document in the capture phase runs before
    // the theme's listener on the button.
    const buttons = ".theme-switch-button, .search-button, .primary-toggle, .secondary-toggle";
    document.addEventListener("click", (e) => {
      const b = e.target.closest && e.target.closest(buttons);
      if (!b) return;
      setTimeout(() => {
        const now = document.activeElement;
        if ((!now || now === document.body) && b.offsetParent !== null) b.focus();
      }, 0);
    }, true);
  }

  function announceSearchCount() {
    const results = document.getElementById("search-results");
    if (!results) return;
    const status = document.createElement("div");
    status.setAttribute("role", "status");
    status.className = "visually-hidden nn-search-status";
    results.before(status);
    const update = () => {
      const summary = results.querySelector(".search-summary");
      if (summary && summary.textContent.trim()) status.textContent = summary.textContent.trim();
    };
    new MutationObserver(update).observe(results, { childList: true, subtree: true, characterData: true });
    update();
  }

  function returnFocusFromDialogs() {
    // The search dialog and the chapter list (a <dialog> on narrow screens) send focus to the
    // page when they close; send it back to the button that opened them.
    let opener = null;
    document.addEventListener("click", (e) => {
      const b = e.target.closest && e.target.closest(".search-button__button, .primary-toggle, .secondary-toggle");
      if (b) opener = b;
    }, true);
    document.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") opener = document.activeElement;
    }, true);
    const restore = () => {
      const target = opener;
      if (target && document.contains(target) && target.offsetParent !== null) {
        setTimeout(() => target.focus(), 0);
      }
    };
    for (const d of document.querySelectorAll("dialog")) d.addEventListener("close", restore);
  }

  function focusableScrollAreas() {
    // An output wider or taller than its box scrolls; keyboard users scroll it by focusing it.
    const areas = 'article .cell_output *, article pre, article mjx-container[display="true"]';
    for (const e of document.querySelectorAll(areas)) {
      const s = getComputedStyle(e);
      const scrolls = /(auto|scroll)/.test(s.overflowX + s.overflowY) &&
        (e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight);
      if (scrolls && !e.hasAttribute("tabindex")) e.tabIndex = 0;
    }
  }

  function start() {
    nameColourButtons();
    new MutationObserver(nameColourButtons).observe(document.documentElement, {
      attributes: true, attributeFilter: ["data-mode"],
    });
    keepFocusOnToolbarButtons();
    focusableScrollAreas();
    // a wide equation scrolls too, once MathJax has drawn it
    const mj = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    if (mj) mj.then(focusableScrollAreas);
    announceSearchCount();
    returnFocusFromDialogs();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
