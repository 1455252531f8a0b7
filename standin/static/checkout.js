// Re-evaluate the cart when the buyer changes the customer, shipping or payment.
(function () {
  "use strict";
  var form = document.getElementById("checkout");
  var update = document.getElementById("update");
  if (!form || !update) {
    return;
  }
  form.addEventListener("change", function (event) {
    var t = event.target;
    if (t.tagName === "SELECT" || t.type === "radio") {
      form.requestSubmit(update);
    }
  });
})();
