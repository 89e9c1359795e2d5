/* The caregiver's phone: a submit button with [data-geo] first asks the browser for the phone's
   position (navigator.geolocation) and sends it with the form as latitude/longitude. Without a
   position (refused, unavailable, timed out) the form is sent anyway; the server flags it. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (!button || !button.hasAttribute("data-geo") || form.dataset.located) return;
    event.preventDefault();
    var label = button.textContent;
    button.disabled = true;
    button.textContent = "正在定位…";

    function send(lat, lon) {
      form.querySelector("input[name=latitude]").value = lat;
      form.querySelector("input[name=longitude]").value = lon;
      if (button.name) {
        var step = document.createElement("input");
        step.type = "hidden";
        step.name = button.name;
        step.value = button.value;
        form.appendChild(step);
      }
      form.dataset.located = "1";
      button.textContent = label;
      form.submit();
    }

    if (!navigator.geolocation) { send("", ""); return; }
    navigator.geolocation.getCurrentPosition(
      function (pos) { send(pos.coords.latitude.toFixed(6), pos.coords.longitude.toFixed(6)); },
      function () { send("", ""); },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
    );
  });
})();
