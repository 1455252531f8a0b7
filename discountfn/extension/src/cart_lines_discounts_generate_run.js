import { CART_LINES_OPERATIONS, runOperations } from "./shared.js";

// Target cart.lines.discounts.generate.run: return the product and order discounts (and
// accepted codes) our endpoint answered.
export function cartLinesDiscountsGenerateRun(input) {
  return runOperations(input, CART_LINES_OPERATIONS);
}
