import { test } from "node:test";
import assert from "node:assert/strict";

import {
  cartDeliveryOptionsDiscountsGenerateRun,
  cartLinesDiscountsGenerateRun,
} from "../src/index.js";
import { fixture } from "./helpers.js";

const product = {
  productDiscountsAdd: {
    selectionStrategy: "FIRST",
    candidates: [
      {
        targets: [{ cartLine: { id: "gid://shopify/CartLine/0" } }],
        value: { percentage: { value: "10" } },
      },
    ],
  },
};
const order = {
  orderDiscountsAdd: {
    selectionStrategy: "FIRST",
    candidates: [
      {
        targets: [{ orderSubtotal: { excludedCartLineIds: [] } }],
        value: { fixedAmount: { amount: "5.0" } },
      },
    ],
  },
};
const delivery = {
  deliveryDiscountsAdd: {
    selectionStrategy: "ALL",
    candidates: [
      {
        targets: [{ deliveryGroup: { id: "gid://shopify/CartDeliveryGroup/0" } }],
        value: { percentage: { value: "100" } },
      },
    ],
  },
};
const codes = { enteredDiscountCodesAccept: { codes: [{ code: "WELCOME10" }] } };

function runInput(operations, discountClasses, status = 200) {
  return {
    fetchResult: { status, jsonBody: { operations } },
    discount: { discountClasses },
    triggeringDiscountCode: null,
  };
}

test("cart lines run passes our operations through", () => {
  const input = runInput([product, order, codes], ["PRODUCT", "ORDER"]);
  assert.deepEqual(cartLinesDiscountsGenerateRun(input), { operations: [product, order, codes] });
});

test("delivery run passes our operations through", () => {
  const input = runInput([delivery, codes], ["SHIPPING"]);
  assert.deepEqual(cartDeliveryOptionsDiscountsGenerateRun(input), { operations: [delivery, codes] });
});

test("cart lines run drops operations the target does not allow", () => {
  const input = runInput([delivery, product, codes], ["PRODUCT", "ORDER", "SHIPPING"]);
  assert.deepEqual(cartLinesDiscountsGenerateRun(input), { operations: [product, codes] });
});

test("delivery run drops operations the target does not allow", () => {
  const input = runInput([product, order, delivery, codes], ["PRODUCT", "ORDER", "SHIPPING"]);
  assert.deepEqual(cartDeliveryOptionsDiscountsGenerateRun(input), { operations: [delivery, codes] });
});

test("cart lines run drops classes the discount does not have", () => {
  assert.deepEqual(cartLinesDiscountsGenerateRun(runInput([product, order, codes], ["ORDER"])), {
    operations: [order, codes],
  });
  assert.deepEqual(cartLinesDiscountsGenerateRun(runInput([product, order, codes], ["PRODUCT"])), {
    operations: [product, codes],
  });
  assert.deepEqual(cartLinesDiscountsGenerateRun(runInput([product, order], ["SHIPPING"])), {
    operations: [],
  });
});

test("delivery run drops shipping discounts when the discount lacks SHIPPING", () => {
  assert.deepEqual(cartDeliveryOptionsDiscountsGenerateRun(runInput([delivery, codes], ["PRODUCT"])), {
    operations: [codes],
  });
});

test("run drops operations that are not a oneOf with one non-null member", () => {
  const bad = [null, "productDiscountsAdd", [], {}, { ...product, ...order }, { productDiscountsAdd: null }];
  const input = runInput([...bad, product, { toString: codes.enteredDiscountCodesAccept }], ["PRODUCT"]);
  assert.deepEqual(cartLinesDiscountsGenerateRun(input), { operations: [product] });
});

test("run results match the fixtures the Go tests check against the schema", () => {
  assert.deepEqual(
    cartLinesDiscountsGenerateRun(fixture("cart-lines-run-input.json")),
    fixture("cart-lines-run-result.json"),
  );
  assert.deepEqual(
    cartDeliveryOptionsDiscountsGenerateRun(fixture("delivery-options-run-input.json")),
    fixture("delivery-options-run-result.json"),
  );
});

const failures = {
  "no fetch result": { fetchResult: null, discount: { discountClasses: ["PRODUCT"] } },
  "fetch result absent": { discount: { discountClasses: ["PRODUCT"] } },
  "status 500": runInput([product], ["PRODUCT"], 500),
  "status 429": runInput([product], ["PRODUCT"], 429),
  "status 201": runInput([product], ["PRODUCT"], 201),
  "no JSON body": {
    fetchResult: { status: 200, jsonBody: null },
    discount: { discountClasses: ["PRODUCT"] },
  },
  "body is a list": {
    fetchResult: { status: 200, jsonBody: [product] },
    discount: { discountClasses: ["PRODUCT"] },
  },
  "no operations array": {
    fetchResult: { status: 200, jsonBody: { errors: ["boom"] } },
    discount: { discountClasses: ["PRODUCT"] },
  },
  "operations not an array": {
    fetchResult: { status: 200, jsonBody: { operations: product } },
    discount: { discountClasses: ["PRODUCT"] },
  },
};

for (const [name, input] of Object.entries(failures)) {
  test(`run returns no operations when ${name}`, () => {
    assert.deepEqual(cartLinesDiscountsGenerateRun(input), { operations: [] });
    assert.deepEqual(cartDeliveryOptionsDiscountsGenerateRun(input), { operations: [] });
  });
}
