import { buildFetch, DELIVERY_OPTIONS_PATH } from "./shared.js";

// Target cart.delivery-options.discounts.generate.fetch: ask our endpoint for the shipping
// discounts of this cart.
export function cartDeliveryOptionsDiscountsGenerateFetch(input) {
  return buildFetch(input, DELIVERY_OPTIONS_PATH);
}
