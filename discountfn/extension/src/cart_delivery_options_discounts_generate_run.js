import { DELIVERY_OPTIONS_OPERATIONS, runOperations } from "./shared.js";

// Target cart.delivery-options.discounts.generate.run: return the shipping discounts (and
// accepted codes) our endpoint answered.
export function cartDeliveryOptionsDiscountsGenerateRun(input) {
  return runOperations(input, DELIVERY_OPTIONS_OPERATIONS);
}
