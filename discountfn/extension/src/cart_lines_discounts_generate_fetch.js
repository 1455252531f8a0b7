import { buildFetch, CART_LINES_PATH } from "./shared.js";

// Target cart.lines.discounts.generate.fetch: ask our endpoint for the product and order
// discounts of this cart.
export function cartLinesDiscountsGenerateFetch(input) {
  return buildFetch(input, CART_LINES_PATH);
}
