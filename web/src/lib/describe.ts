// Words for what the API returns in codes: statuses, sync states, engine reasons, and a one-line
// summary of an offer's value.

import {formatMoney, parseMoney, parsePercent} from './money';
import type {OfferForm} from './offerForm';
import type {ApplicationKind, Status, ValueKind} from './types';

export const STATUS_LABELS: Record<Status, string> = {
  draft: 'Draft',
  active: 'Active',
  paused: 'Paused',
  archived: 'Archived',
  scheduled: 'Scheduled',
  expired: 'Expired',
};

export type Tone = 'success' | 'info' | 'attention' | 'warning' | 'critical' | 'new' | undefined;

export function statusTone(s: Status): Tone {
  switch (s) {
    case 'active':
      return 'success';
    case 'scheduled':
      return 'info';
    case 'paused':
      return 'attention';
    case 'expired':
    case 'archived':
      return undefined;
    default:
      return 'new';
  }
}

export const SYNC_LABELS: Record<string, string> = {
  synced: 'Synced',
  pending: 'Syncing',
  failed: 'Sync failed',
  unknown: 'Not synced',
};

export function syncTone(state: string): Tone {
  return state === 'synced' ? 'success' : state === 'failed' ? 'critical' : state === 'pending' ? 'attention' : undefined;
}

export const VALUE_KIND_LABELS: Record<ValueKind, string> = {
  percentage: 'Percentage',
  fixed_amount: 'Fixed amount',
  free_shipping: 'Free shipping',
  buy_x_get_y: 'Buy X get Y',
  tiered: 'Tiers',
};

export const APPLICATION_LABELS: Record<ApplicationKind, string> = {
  code: 'Shared code',
  codes: 'Unique codes',
  automatic: 'Automatic',
};

/** REASONS explains each discountfn.Reason to a merchant. */
export const REASONS: Record<string, string> = {
  not_active: 'The offer is not active (draft, paused or archived).',
  scheduled: 'The offer has not started yet.',
  expired: 'The offer has ended.',
  code_not_entered: 'None of its codes was entered.',
  code_not_for_customer: 'The code was issued to another customer.',
  code_used: 'The single-use code was already used.',
  customer_not_eligible: 'The customer is not in the offer’s customers or tags.',
  customer_unknown: 'The offer needs a known customer, and the cart has none.',
  segment_not_matched: 'The customer is not in the offer’s segment.',
  lower_priority_segment: 'The customer is also in a higher-priority segment, whose offers win.',
  purchase_behaviour_not_met: 'The customer’s purchase history does not meet the offer’s behaviour rules.',
  not_first_order: 'This would not be the customer’s first order.',
  order_number_out_of_range: 'This order’s number (nth order) is outside the offer’s range.',
  cart_subtotal_below_minimum: 'The cart subtotal is below the minimum.',
  cart_subtotal_above_maximum: 'The cart subtotal is above the maximum.',
  cart_quantity_below_minimum: 'The cart has fewer items than the minimum.',
  cart_quantity_above_maximum: 'The cart has more items than the maximum.',
  no_target_items: 'No item of the cart is one the offer discounts.',
  no_eligible_shipping: 'No delivery option can be made free (or it costs more than the ceiling).',
  usage_limit_reached: 'The offer’s total usage limit is reached.',
  customer_limit_reached: 'The customer used the offer as many times as allowed.',
  daily_limit_reached: 'Today’s usage cap is reached.',
  identity_blocked: 'The customer (or their email, phone, address or IP) is on the block list.',
  excluded_by_exclusive_offer: 'An exclusive offer applied, so no other offer does.',
  does_not_combine: 'It does not combine with an offer that applied before it.',
  nothing_left_to_discount: 'Other offers already took the whole amount.',
  zero_discount: 'The discount would be zero.',
  class_not_on_discount: 'The calling platform discount lacks this class.',
};

export function reasonText(reason: string | undefined): string {
  if (!reason) return '';
  return REASONS[reason] ?? reason.replace(/_/g, ' ');
}

function pct(text: string): string {
  const p = parsePercent(text);
  return p.ok && p.value !== null ? `${p.value}%` : '…%';
}

function money(text: string, currency: string, exponent: number): string {
  const m = parseMoney(text, exponent);
  return m.ok && m.value !== null ? formatMoney(m.value, currency) : '…';
}

/** describeValue is a one-line summary of the offer's value: "15% off", "Spend $50.00: 5% off". */
export function describeValue(f: OfferForm, currency: string, exponent: number): string {
  switch (f.valueKind) {
    case 'percentage':
      return `${pct(f.percentage)} off${f.cap ? `, at most ${money(f.cap, currency, exponent)}` : ''}`;
    case 'fixed_amount':
      return `${money(f.amount, currency, exponent)} off`;
    case 'free_shipping':
      return f.shippingRateCeiling
        ? `Free shipping on rates up to ${money(f.shippingRateCeiling, currency, exponent)}`
        : 'Free shipping';
    case 'buy_x_get_y':
      return `Buy ${f.buyQuantity || '…'}, get ${f.getQuantity || '…'} at ${pct(f.percentage)} off`;
    case 'tiered':
      return f.tiers
        .map((t) => {
          const at = f.tierBasis === 'quantity' ? `${t.threshold || '…'}+ items` : `${money(t.threshold, currency, exponent)}+`;
          const what =
            t.kind === 'percentage'
              ? `${pct(t.percentage)} off`
              : t.kind === 'fixed_amount'
                ? `${money(t.amount, currency, exponent)} off`
                : 'free shipping';
          return `${at}: ${what}${t.kind !== 'free_shipping' && t.freeShipping ? ' + free shipping' : ''}`;
        })
        .join(' · ');
  }
}
