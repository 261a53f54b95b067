// Judge each parameter / IPC value against its limits as it is typed (red/green); the server judges again.
(function () {
  function judge(input) {
    var raw = (input.value || "").trim().replace(",", ".");
    input.classList.remove("is-ok", "is-bad");
    if (raw === "" || isNaN(Number(raw))) { return; }
    var v = Number(raw), low = input.dataset.low, high = input.dataset.high;
    var bad = (low !== "" && low !== undefined && v < Number(low)) || (high !== "" && high !== undefined && v > Number(high));
    input.classList.add(bad ? "is-bad" : "is-ok");
  }
  document.addEventListener("input", function (e) {
    if (e.target && e.target.classList && e.target.classList.contains("batch-value")) { judge(e.target); }
  });
})();
