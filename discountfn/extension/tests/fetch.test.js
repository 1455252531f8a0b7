import { test } from "node:test";
import assert from "node:assert/strict";

import {
  cartDeliveryOptionsDiscountsGenerateFetch,
  cartLinesDiscountsGenerateFetch,
} from "../src/index.js";
import { fixture } from "./helpers.js";

const targets = [
  ["cart lines", cartLinesDiscountsGenerateFetch, "https://regulars.example.com/api/checkout/cart-lines"],
  [
    "delivery options",
    cartDeliveryOptionsDiscountsGenerateFetch,
    "https://regulars.example.com/api/checkout/delivery-options",
  ],
];

for (const [name, fetchTarget, url] of targets) {
  test(`${name} fetch posts the input to our endpoint with the token in the header`, () => {
    const input = fixture("cart-lines-input.json");
    const { request } = fetchTarget(input);

    assert.equal(request.method, "POST");
    assert.equal(request.url, url);
    assert.deepEqual(request.headers, [
      { name: "accept", value: "application/json" },
      { name: "content-type", value: "application/json" },
      { name: "authorization", value: "Bearer header.payload.signature" },
    ]);
    assert.deepEqual(request.policy, { readTimeoutMs: 2000 });
    assert.equal(request.body, undefined, "jsonBody only: body would win over it");

    // The body is the input as given, minus the token.
    const expected = fixture("cart-lines-input.json");
    delete expected.discount.metafield.jsonValue.token;
    assert.deepEqual(request.jsonBody, expected);
    assert.ok(!JSON.stringify(request.jsonBody).includes("header.payload.signature"));
    // The input itself is untouched.
    assert.deepEqual(input, fixture("cart-lines-input.json"));
  });
}

test("cart lines fetch result matches the fixture the Go tests check against the schema", () => {
  assert.deepEqual(
    cartLinesDiscountsGenerateFetch(fixture("cart-lines-input.json")),
    fixture("cart-lines-fetch-result.json"),
  );
});

test("a trailing slash on the endpoint is not doubled", () => {
  const input = fixture("cart-lines-input.json");
  input.discount.metafield.jsonValue.endpoint = "https://regulars.example.com/api/";
  const { request } = cartLinesDiscountsGenerateFetch(input);
  assert.equal(request.url, "https://regulars.example.com/api/checkout/cart-lines");
});

const broken = {
  "metafield missing": (input) => {
    delete input.discount.metafield;
  },
  "metafield null": (input) => {
    input.discount.metafield = null;
  },
  "jsonValue not an object": (input) => {
    input.discount.metafield.jsonValue = "not json";
  },
  "jsonValue an array": (input) => {
    input.discount.metafield.jsonValue = [1, 2];
  },
  "token missing": (input) => {
    delete input.discount.metafield.jsonValue.token;
  },
  "token empty": (input) => {
    input.discount.metafield.jsonValue.token = "";
  },
  "token not a string": (input) => {
    input.discount.metafield.jsonValue.token = 42;
  },
  "endpoint missing": (input) => {
    delete input.discount.metafield.jsonValue.endpoint;
  },
  "endpoint not https": (input) => {
    input.discount.metafield.jsonValue.endpoint = "http://regulars.example.com/api";
  },
  "endpoint with a query": (input) => {
    input.discount.metafield.jsonValue.endpoint = "https://regulars.example.com/api?x=1";
  },
  "discount missing": (input) => {
    delete input.discount;
  },
};

for (const [name, breakInput] of Object.entries(broken)) {
  for (const [target, fetchTarget] of targets) {
    test(`${target} fetch sends no request when the configuration is broken: ${name}`, () => {
      const input = fixture("cart-lines-input.json");
      breakInput(input);
      assert.deepEqual(fetchTarget(input), { request: null });
    });
  }
}
