/* Inspection tablet page: immediate red/green, keypad flow, one-at-a-time mode, draft kept on the
   tablet (localStorage), camera scanning. No inline script (CSP). Limits are compared exactly as
   decimals (strings), never as floats. */
(function () {
  "use strict";

  function parseDec(s) {
    s = String(s).trim().replace(",", ".");
    var m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
    if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) return null;
    var intPart = (m[2] || "0").replace(/^0+(?=\d)/, "");
    var frac = (m[3] || "").replace(/0+$/, "");
    var neg = m[1] === "-" && !(/^0*$/.test(intPart) && frac === "");
    return { neg: neg, int: intPart, frac: frac };
  }
  function cmpAbs(a, b) {
    if (a.int.length !== b.int.length) return a.int.length < b.int.length ? -1 : 1;
    if (a.int !== b.int) return a.int < b.int ? -1 : 1;
    var n = Math.max(a.frac.length, b.frac.length);
    var fa = a.frac.padEnd(n, "0"), fb = b.frac.padEnd(n, "0");
    return fa === fb ? 0 : (fa < fb ? -1 : 1);
  }
  function cmpDec(a, b) {
    if (a.neg !== b.neg) return a.neg ? -1 : 1;
    var c = cmpAbs(a, b);
    return a.neg ? -c : c;
  }
  function judge(input) {
    var kind = input.dataset.kind, v = input.value.trim();
    if (v === "") return null;
    if (kind === "attribute") return v === "pass";
    if (kind === "count") { if (!/^\d+$/.test(v)) return false; var hi = input.dataset.hi; return hi === undefined ? Number(v) === 0 : cmpDec(parseDec(v), parseDec(hi)) <= 0; }
    if (kind !== "variable") return null;
    var x = parseDec(v);
    if (!x) return false;
    if (input.dataset.lo !== undefined && cmpDec(x, parseDec(input.dataset.lo)) < 0) return false;
    if (input.dataset.hi !== undefined && cmpDec(x, parseDec(input.dataset.hi)) > 0) return false;
    return true;
  }
  function paint(input) {
    var cell = input.closest("[data-cell]");
    if (!cell || input.hasAttribute("data-refused")) return; // gauge past calibration: never green

    var ok = judge(input);
    cell.classList.toggle("ok", ok === true);
    cell.classList.toggle("bad", ok === false);
    var photo = cell.querySelector("[data-photo]");
    if (photo) photo.hidden = ok !== false;
  }

  function setupForm(form) {
    var key = form.dataset.draftKey;
    var inputs = Array.prototype.slice.call(form.querySelectorAll("[data-char]"));
    var cells = Array.prototype.slice.call(form.querySelectorAll("[data-cell]")).filter(function (c) { return c.querySelector("[data-char]"); });
    var current = 0;

    // draft: restore what this tablet typed before the network dropped
    var draft = {};
    try { draft = JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { draft = {}; }
    var restored = false, kept = {};
    inputs.forEach(function (el) {
      if (draft[el.name] !== undefined) {
        kept[el.name] = draft[el.name];
        if (!el.value) { el.value = draft[el.name]; restored = true; }
      }
      if (el.value) paint(el);
    });
    localStorage.setItem(key, JSON.stringify(kept)); // recorded values are gone from the form: drop them
    if (restored) { var note = form.querySelector("[data-draft-note]"); if (note) note.hidden = false; }
    function save() {
      var d = {};
      inputs.forEach(function (el) { if (el.value) d[el.name] = el.value; });
      localStorage.setItem(key, JSON.stringify(d));
    }

    inputs.forEach(function (el, i) {
      el.addEventListener("input", function () { paint(el); save(); });
      el.addEventListener("change", function () { paint(el); save(); });
      el.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter") {
          ev.preventDefault();
          if (form.classList.contains("single-mode")) { show(current + 1); return; }
          var next = inputs[i + 1];
          if (next) next.focus(); else form.querySelector("[data-save]").focus();
        }
      });
    });

    function show(i) {
      if (!cells.length) return;
      current = Math.max(0, Math.min(cells.length - 1, i));
      cells.forEach(function (c, j) { c.classList.toggle("current", j === current); });
      form.querySelectorAll("fieldset.sample").forEach(function (fs) { fs.classList.toggle("current", fs.contains(cells[current])); });
      var el = cells[current].querySelector("[data-char]");
      if (el) el.focus();
    }
    function mode(m) {
      form.classList.toggle("single-mode", m === "single");
      form.classList.toggle("grid-mode", m !== "single");
      form.querySelector("[data-prev]").hidden = m !== "single";
      form.querySelector("[data-next]").hidden = m !== "single";
      localStorage.setItem("insp-mode", m);
      if (m === "single") show(firstEmpty()); else cells.forEach(function (c) { c.classList.remove("current"); });
    }
    function firstEmpty() {
      for (var j = 0; j < cells.length; j++) { var el = cells[j].querySelector("[data-char]"); if (el && !el.value) return j; }
      return 0;
    }
    form.querySelectorAll("[data-mode]").forEach(function (b) { b.addEventListener("click", function () { mode(b.dataset.mode); }); });
    form.querySelector("[data-prev]").addEventListener("click", function () { show(current - 1); });
    form.querySelector("[data-next]").addEventListener("click", function () { show(current + 1); });
    mode(localStorage.getItem("insp-mode") || "grid");
    form.addEventListener("submit", function () { save(); });
  }

  function setupCamera(button) {
    var reader = document.getElementById("camera-reader");
    var target = document.querySelector("[data-scan-target]");
    var scanner = null;
    button.addEventListener("click", function () {
      if (!window.Html5Qrcode || !reader) return;
      if (scanner) { scanner.stop().catch(function () {}); scanner = null; reader.hidden = true; return; }
      reader.hidden = false;
      scanner = new window.Html5Qrcode("camera-reader");
      scanner.start({ facingMode: "environment" }, { fps: 10, qrbox: 250 }, function (text) {
        scanner.stop().catch(function () {}); scanner = null; reader.hidden = true;
        target.value = text; target.form.submit();
      }).catch(function () { reader.hidden = true; scanner = null; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("values-form");
    if (form) setupForm(form);
    var cam = document.querySelector("[data-camera-scan]");
    if (cam) setupCamera(cam);
  });
  window.qmsInspection = { parseDec: parseDec, cmpDec: cmpDec };
})();
