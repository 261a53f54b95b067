// Shell behaviour. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";
  // Language switcher submits on change.
  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-autosubmit]")) { e.target.form.submit(); }
  });
  // A keyboard-wedge scanner types fast and ends with Enter. When no field has focus, route the
  // keystrokes to the scan box so a scan works from anywhere on the page.
  var buffer = "", last = 0;
  document.addEventListener("keydown", function (e) {
    var box = document.querySelector("[data-scan-input]");
    if (!box) { return; }
    var t = e.target;
    var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (typing) { return; }
    var now = Date.now();
    if (now - last > 100) { buffer = ""; }
    last = now;
    if (e.key === "Enter" && buffer.length > 2) {
      box.value = buffer; buffer = ""; box.form.submit(); e.preventDefault();
    } else if (e.key.length === 1) {
      buffer += e.key;
    }
  });
  // Confirmation for destructive-looking actions, declared with data-confirm.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
})();
