/* A signature pad: draw with a finger, pen or mouse on <canvas class="signature-pad"> inside a form
   that has <input name="image">, [data-clear] and [data-confirm] buttons. The drawing is kept in
   the hidden input as a PNG data URL after every stroke. No dependencies. */
(function () {
  "use strict";

  function setup(canvas) {
    if (canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    var form = canvas.closest("form");
    var output = form.querySelector("input[name=image]");
    var confirm = form.querySelector("[data-confirm]");
    var ctx = canvas.getContext("2d");
    var drawing = false, inked = false, last = null;

    function size() {
      // Draw at the screen's resolution (at most 2x: a larger PNG adds nothing to a signature).
      var ratio = Math.min(window.devicePixelRatio || 1, 2);
      var rect = canvas.getBoundingClientRect();
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.6;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#10243e";
      ctx.fillStyle = "#10243e";
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }

    function clear() {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      inked = false;
      output.value = "";
      if (confirm) confirm.disabled = true;
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fill();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      event.preventDefault();
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      inked = true;
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      if (inked) {
        output.value = canvas.toDataURL("image/png");
        if (confirm) confirm.disabled = false;
      }
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("pointerleave", end);

    var clearButton = form.querySelector("[data-clear]");
    if (clearButton) clearButton.addEventListener("click", clear);
    form.addEventListener("submit", function (event) {
      if (!output.value) { event.preventDefault(); }
    });
    size();
    // A canvas inside a closed <details> has no size yet: size it when it is opened.
    var details = canvas.closest("details");
    if (details) details.addEventListener("toggle", function () { if (details.open && !inked) size(); });
  }

  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("canvas.signature-pad").forEach(setup);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
  if (document.readyState !== "loading") init(document);
})();
