// The admin chrome's side of the App Bridge stand-in: it answers the embedded app's messages
// (see /app-bridge.js), only from the app's frame and origin.
(function () {
  "use strict";
  var frame = document.getElementById("app");
  if (!frame) {
    return;
  }
  var appOrigin = frame.getAttribute("data-app-origin");
  var shop = frame.getAttribute("data-shop");
  var toast = document.getElementById("toast");
  var toastTimer = null;

  function reply(id, payload, error) {
    frame.contentWindow.postMessage(
      { source: "regulars-admin", id: id, payload: payload, error: error || null },
      appOrigin
    );
  }

  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || event.origin !== appOrigin) {
      return;
    }
    var msg = event.data;
    if (!msg || msg.source !== "regulars-app-bridge") {
      return;
    }
    switch (msg.type) {
      case "idToken":
        fetch("/shops/" + encodeURIComponent(shop) + "/admin/id-token", { method: "POST", credentials: "same-origin" })
          .then(function (r) {
            if (!r.ok) {
              throw new Error("HTTP " + r.status);
            }
            return r.json();
          })
          .then(function (body) {
            reply(msg.id, { token: body.token });
          })
          .catch(function (err) {
            reply(msg.id, null, "no ID token: " + err.message);
          });
        break;
      case "toast":
        toast.textContent = (msg.payload && msg.payload.message) || "";
        toast.hidden = false;
        clearTimeout(toastTimer);
        toastTimer = setTimeout(function () {
          toast.hidden = true;
        }, 4000);
        reply(msg.id, {});
        break;
      default:
        reply(msg.id, null, "unsupported message " + msg.type);
    }
  });
})();
