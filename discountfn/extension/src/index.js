// Entry point: one export per target of shopify.extension.toml (export
// "cart-lines-discounts-generate-fetch" is the function cartLinesDiscountsGenerateFetch, ...).
export * from "./cart_lines_discounts_generate_fetch.js";
export * from "./cart_lines_discounts_generate_run.js";
export * from "./cart_delivery_options_discounts_generate_fetch.js";
export * from "./cart_delivery_options_discounts_generate_run.js";
