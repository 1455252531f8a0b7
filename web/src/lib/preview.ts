// What the shopper sees of an offer: its title, description, and when the cart is close to a
// threshold the "spend X more" message, worded as the engine words it (discountfn/engine.go:
// amountHint and quantityHint).

import {formatEngineAmount} from './money';

export const DEFAULT_UNLOCK_AMOUNT = 'Spend {amount} more to get {title}';
export const DEFAULT_UNLOCK_QUANTITY = 'Add {amount} more items to get {title}';

/** fillUnlock substitutes {amount} and {title} in the message, as the engine does. */
export function fillUnlock(template: string, amount: string, title: string): string {
  return template.split('{amount}').join(amount).split('{title}').join(title);
}

/** unknownPlaceholders lists the {name}s other than {amount} and {title} (the server refuses them). */
export function unknownPlaceholders(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    if (m[1] !== 'amount' && m[1] !== 'title') out.push(`{${m[1]}}`);
  }
  return out;
}

export interface UnlockPreview {
  message: string;
  /** What the example assumes: the threshold and the cart. */
  basis: string;
}

/**
 * unlockPreview is the message a shopper sees whose cart misses the threshold by missing
 * (minor units, or items when byQuantity).
 */
export function unlockPreview(opts: {
  template: string;
  title: string;
  missing: number;
  byQuantity: boolean;
  currency: string;
}): string {
  const {template, title, missing, byQuantity, currency} = opts;
  const t = template.trim() || (byQuantity ? DEFAULT_UNLOCK_QUANTITY : DEFAULT_UNLOCK_AMOUNT);
  const amount = byQuantity ? String(missing) : formatEngineAmount(missing, currency);
  return fillUnlock(t, amount, title);
}
