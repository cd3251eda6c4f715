/* The book's own page script (added by book/_ext/optimlab_book.py).
 *
 * A display formula wider than the text scrolls inside its own box (optimlab-book.css).  Such a box
 * takes the keyboard focus, so that it can be scrolled without a mouse; formulas that fit stay out
 * of the tab order.  Checked again whenever a formula's box changes size (window, zoom). */
(function () {
  "use strict";
  function mark(box) {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "wide formula, scrolls sideways");
    } else if (box.getAttribute("role") === "region") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }
  function start() {
    var seen = window.ResizeObserver && new ResizeObserver(function (entries) {
      entries.forEach(function (e) { mark(e.target); });
    });
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (box) {
      mark(box);
      if (seen) seen.observe(box);
    });
    document.documentElement.setAttribute("data-formulas-checked", "1");
  }
  window.addEventListener("load", function () {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) mj.startup.promise.then(start); else start();
  });
})();
