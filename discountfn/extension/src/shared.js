// Shared logic of the four targets. Plain ES2020 with no imports: the platform runs it in
// its JavaScript-to-WebAssembly runtime, which has no fetch, URL or structuredClone.

/** Paths of our checkout endpoint, appended to the configured endpoint base URL. */
export const CART_LINES_PATH = "/checkout/cart-lines";
export const DELIVERY_OPTIONS_PATH = "/checkout/delivery-options";

/** How long the platform waits for our answer (the platform allows 100 to 2000 ms). */
export const READ_TIMEOUT_MS = 2000;

/**
 * Operations each run target may return, with the discount class an operation needs on the
 * calling discount (null: allowed whatever the classes).
 */
export const CART_LINES_OPERATIONS = {
  productDiscountsAdd: "PRODUCT",
  orderDiscountsAdd: "ORDER",
  enteredDiscountCodesAccept: null,
};
export const DELIVERY_OPTIONS_OPERATIONS = {
  deliveryDiscountsAdd: "SHIPPING",
  enteredDiscountCodesAccept: null,
};

// An https base URL with a host and no query or fragment (paths are appended to it).
const ENDPOINT_RE = /^https:\/\/[^\s/?#@]+(\/[^\s?#]*)?$/;

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function hasOwn(obj, key) {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/**
 * The discount's configuration (the metafield's jsonValue: {version, offer_id, token,
 * endpoint, collectionIds, customerTags}), or null when it is missing or lacks a usable
 * token and endpoint.
 */
export function readConfig(input) {
  const metafield = input && isObject(input.discount) ? input.discount.metafield : null;
  if (!isObject(metafield) || !isObject(metafield.jsonValue)) {
    return null;
  }
  const config = metafield.jsonValue;
  if (typeof config.token !== "string" || config.token === "") {
    return null;
  }
  if (typeof config.endpoint !== "string" || !ENDPOINT_RE.test(config.endpoint)) {
    return null;
  }
  return config;
}

/**
 * The fetch targets' result: a POST of the function input to our endpoint, the token moved
 * from the configuration into the authorization header. {request: null} (no call, no
 * discount) when the configuration is missing or malformed.
 */
export function buildFetch(input, path) {
  const config = readConfig(input);
  if (config === null) {
    return { request: null };
  }
  // A deep copy of the input without the token; everything else goes as the platform gave it.
  const body = JSON.parse(JSON.stringify(input));
  delete body.discount.metafield.jsonValue.token;
  return {
    request: {
      method: "POST",
      url: config.endpoint.replace(/\/+$/, "") + path,
      headers: [
        { name: "accept", value: "application/json" },
        { name: "content-type", value: "application/json" },
        { name: "authorization", value: "Bearer " + config.token },
      ],
      jsonBody: body,
      policy: { readTimeoutMs: READ_TIMEOUT_MS },
    },
  };
}

/**
 * The run targets' result: the operations our endpoint answered, keeping only those the
 * target allows whose class is on the calling discount. No answer, a status other than 200,
 * or a body without an operations array gives no operations (checkout goes on undiscounted).
 */
export function runOperations(input, allowed) {
  const none = { operations: [] };
  const fetchResult = input ? input.fetchResult : null;
  if (!isObject(fetchResult) || fetchResult.status !== 200) {
    return none;
  }
  const body = fetchResult.jsonBody;
  if (!isObject(body) || !Array.isArray(body.operations)) {
    return none;
  }
  const discount = isObject(input.discount) ? input.discount : {};
  const classes = Array.isArray(discount.discountClasses) ? discount.discountClasses : [];
  const operations = body.operations.filter((op) => {
    // An operation is a oneOf: exactly one non-null member.
    if (!isObject(op)) {
      return false;
    }
    const keys = Object.keys(op);
    if (keys.length !== 1 || !hasOwn(allowed, keys[0]) || !isObject(op[keys[0]])) {
      return false;
    }
    const needed = allowed[keys[0]];
    return needed === null || classes.includes(needed);
  });
  return { operations };
}
