// App Bridge stand-in, loaded by the embedded app from the platform:
//   <script src="{platform}/app-bridge.js" data-api-key="{client id}"></script>
//
// It exposes, like the platform's App Bridge:
//   window.shopify.config   {apiKey, shop, host}: apiKey from data-api-key (or a
//                           <meta name="shopify-api-key">), shop and host from the URL query;
//   window.shopify.idToken() a Promise of a fresh ID token (one minute), minted by the
//                           platform: the app's frame asks the admin page with postMessage,
//                           the admin page asks the platform and answers;
//   window.shopify.toast.show(message, {isError}) a message in the admin chrome;
//   fetch                   requests to the app's own origin without an Authorization header
//                           get "Authorization: Bearer <ID token>".
// Outside the admin frame, idToken() rejects. Messages are exchanged only between the app's
// origin and the platform's origin.
(function () {
  "use strict";
  var script = document.currentScript;
  var platformOrigin = script ? new URL(script.src, location.href).origin : location.origin;
  var params = new URLSearchParams(location.search);
  var meta = document.querySelector('meta[name="shopify-api-key"]');
  var apiKey = (script && script.getAttribute("data-api-key")) || (meta && meta.content) || "";
  var config = Object.freeze({ apiKey: apiKey, shop: params.get("shop") || "", host: params.get("host") || "" });
  var embedded = window.parent !== window;
  var seq = 0;
  var pending = {};

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== platformOrigin) {
      return;
    }
    var msg = event.data;
    if (!msg || msg.source !== "regulars-admin" || !pending[msg.id]) {
      return;
    }
    var p = pending[msg.id];
    delete pending[msg.id];
    clearTimeout(p.timer);
    if (msg.error) {
      p.reject(new Error(msg.error));
    } else {
      p.resolve(msg.payload);
    }
  });

  function ask(type, payload) {
    if (!embedded) {
      return Promise.reject(new Error("App Bridge: the app is not embedded in the admin"));
    }
    return new Promise(function (resolve, reject) {
      var id = ++seq;
      pending[id] = {
        resolve: resolve,
        reject: reject,
        timer: setTimeout(function () {
          delete pending[id];
          reject(new Error("App Bridge: the admin did not answer"));
        }, 5000),
      };
      window.parent.postMessage(
        { source: "regulars-app-bridge", id: id, type: type, payload: payload || null, apiKey: config.apiKey },
        platformOrigin
      );
    });
  }

  function idToken() {
    return ask("idToken").then(function (p) {
      return p.token;
    });
  }

  var originalFetch = window.fetch ? window.fetch.bind(window) : null;
  if (originalFetch && embedded) {
    window.fetch = function (input, init) {
      var isRequest = typeof Request !== "undefined" && input instanceof Request;
      var url = new URL(isRequest ? input.url : String(input), location.href);
      var headers = new Headers((init && init.headers) || (isRequest ? input.headers : undefined));
      if (url.origin !== location.origin || headers.has("Authorization")) {
        return originalFetch(input, init);
      }
      return idToken().then(function (token) {
        headers.set("Authorization", "Bearer " + token);
        return originalFetch(input, Object.assign({}, init, { headers: headers }));
      });
    };
  }

  window.shopify = {
    config: config,
    idToken: idToken,
    toast: {
      show: function (message, opts) {
        return ask("toast", { message: String(message), isError: !!(opts && opts.isError) });
      },
    },
  };
})();
