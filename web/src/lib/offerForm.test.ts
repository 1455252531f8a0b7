import fs from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {formToOffer, newOfferForm, offerToForm, segmentOfferForm, type FormContext} from './offerForm';
import type {Offer} from './types';

const usd: FormContext = {exponent: 2, timeZone: 'Europe/Paris'};

/**
 * normalize writes an offer the way the server reads it: defaults and "unset" values dropped
 * (zero numbers, false flags, empty lists, nil-means-yes switches set to yes), identity keys in
 * the canonical order, instants in UTC. Two offers with the same normal form are the same offer.
 */
function normalize(o: unknown): unknown {
  const walk = (v: unknown, key = ''): unknown => {
    if (Array.isArray(v)) {
      if (v.length === 0) return undefined;
      const list = v.map((x) => walk(x));
      if (key === 'identity_keys') {
        const order = ['customer', 'email', 'phone', 'address', 'ip'];
        return (list as string[]).slice().sort((a, b) => order.indexOf(a) - order.indexOf(b));
      }
      return list;
    }
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if ((k === 'combines_with_codes' || k === 'combines_with_automatic') && x === true) continue;
        if ((k === 'starts_at' || k === 'ends_at') && typeof x === 'string') {
          out[k] = new Date(x).toISOString();
          continue;
        }
        if (k === 'scope' && x === '') {
          out[k] = 'all';
          continue;
        }
        const w = walk(x, k);
        if (w === undefined || w === false || w === '' || (w === 0 && k !== 'priority' && k !== 'threshold')) continue;
        if (w && typeof w === 'object' && !Array.isArray(w) && Object.keys(w).length === 0 && k !== 'limits' && k !== 'schedule')
          continue;
        out[k] = w;
      }
      return out;
    }
    return v;
  };
  const n = walk(o) as Record<string, unknown>;
  n.version = 1;
  n.stacking = {priority: 0, ...(n.stacking as object)};
  (n.stacking as Record<string, unknown>).combines_with ??= {};
  n.condition ??= {qualifying: {scope: 'all'}};
  return n;
}

function roundTrip(o: Offer, ctx = usd): Offer {
  const built = formToOffer(offerToForm(o, ctx), ctx);
  expect(built.problems).toEqual([]);
  return built.offer;
}

// Every offer of the engine's golden vectors (discountfn/testdata), through the editor and back.
describe('golden vector offers survive the editor unchanged', () => {
  const dir = path.resolve(__dirname, '../../../discountfn/testdata');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  it('finds the vectors', () => {
    expect(files.length).toBeGreaterThan(10);
  });
  for (const file of files) {
    const vector = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {offers?: Offer[]; settings?: {currency?: string}};
    for (const offer of vector.offers ?? []) {
      it(`${file}: ${offer.id}`, () => {
        const ctx = {...usd, exponent: vector.settings?.currency === 'JPY' ? 0 : 2};
        expect(normalize(roundTrip(offer, ctx))).toEqual(normalize(offer));
      });
    }
  }
});

// An offer with every field of discountfn.Offer set.
const everything: Offer = {
  version: 1,
  id: 'o-every',
  name: 'Every field',
  campaign: 'Spring',
  status: 'paused',
  application: {kind: 'code', code: 'EVERY10'},
  value: {
    kind: 'percentage',
    percentage: 12.5,
    targets: {
      scope: 'collections',
      collection_ids: ['gid://shopify/Collection/3'],
      exclude_product_ids: ['gid://shopify/Product/4', 'gid://shopify/ProductVariant/5'],
      exclude_gift_cards: true,
      exclude_subscriptions: true,
    },
    max_target_quantity: 2,
    cap: 2500,
  },
  behaviour: {
    period: {unit: 'months', count: 6},
    min_spend: 10050,
    min_orders: 3,
    used_codes: ['WELCOME'],
    not_used_codes: ['LOYAL15'],
    bought_product_ids: ['gid://shopify/Product/9'],
    bought_collection_ids: ['gid://shopify/Collection/8'],
    delivery_method: 'Royal Mail',
  },
  condition: {
    qualifying: {scope: 'products', product_ids: ['gid://shopify/Product/1'], exclude_collection_ids: ['gid://shopify/Collection/7']},
    min_subtotal: 2000,
    max_subtotal: 90000,
    min_quantity: 2,
    max_quantity: 20,
  },
  eligibility: {audience: 'tags', customer_tags: ['VIP', 'wholesale'], order_number: {min: 2, max: 5}},
  limits: {
    total_uses: 1000,
    uses_per_customer: 2,
    identity_keys: ['customer', 'email', 'phone', 'address', 'ip'],
    uses_per_day: 50,
    disable_cash_on_delivery: true,
  },
  schedule: {starts_at: '2026-03-01T08:00:00Z', ends_at: '2026-07-01T22:00:00Z'},
  stacking: {
    priority: -20,
    exclusive: true,
    combines_with: {order_discounts: true, product_discounts: false, shipping_discounts: true},
    combines_with_automatic: false,
  },
  preview: {title: 'Spring for regulars', description: 'Two lines\nof text', visible: true, unlock_message: 'Add {amount} for {title}'},
};

describe('the editor keeps every field of an offer', () => {
  it('percentage offer with every field', () => {
    expect(roundTrip(everything)).toEqual(everything);
  });
  it('tiers by quantity with free shipping and a shipping ceiling', () => {
    const o: Offer = {
      ...everything,
      application: {kind: 'automatic'},
      value: {
        kind: 'tiered',
        tier_basis: 'quantity',
        tiers: [
          {threshold: 3, kind: 'percentage', percentage: 5},
          {threshold: 6, kind: 'fixed_amount', amount: 1000, free_shipping: true},
          {threshold: 10, kind: 'free_shipping'},
        ],
        shipping_rate_ceiling: 1500,
        cap: 5000,
      },
      eligibility: {audience: 'segment', segment_id: 'london', first_order_only: true},
      stacking: {priority: 3, combines_with: {order_discounts: false, product_discounts: true, shipping_discounts: false}, combines_with_codes: false},
    };
    expect(roundTrip(o)).toEqual(o);
  });
  it('tiers by cart value read money in minor units', () => {
    const o: Offer = {
      ...everything,
      value: {kind: 'tiered', tier_basis: 'subtotal', tiers: [{threshold: 5000, kind: 'percentage', percentage: 10}]},
    };
    const f = offerToForm(o, usd);
    expect(f.tiers[0].threshold).toBe('50.00');
    expect(roundTrip(o)).toEqual(o);
  });
  it('buy X get Y', () => {
    const o: Offer = {
      ...everything,
      value: {
        kind: 'buy_x_get_y',
        percentage: 100,
        buy_x_get_y: {
          buy: {scope: 'collections', collection_ids: ['gid://shopify/Collection/1']},
          buy_quantity: 2,
          get: {scope: 'products', product_ids: ['gid://shopify/Product/2']},
          get_quantity: 1,
        },
        cap: 3000,
      },
    };
    expect(roundTrip(o)).toEqual(o);
  });
  it('fixed amount and free shipping', () => {
    const fixed: Offer = {...everything, value: {kind: 'fixed_amount', amount: 1230, cap: 1230}};
    expect(roundTrip(fixed)).toEqual(fixed);
    const ship: Offer = {...everything, value: {kind: 'free_shipping', shipping_rate_ceiling: 999}};
    expect(roundTrip(ship)).toEqual(ship);
  });
  it('specific customers, unique codes, no behaviour, lifetime', () => {
    const o: Offer = {
      ...everything,
      application: {kind: 'codes'},
      behaviour: {period: {unit: 'lifetime'}, min_orders: 1},
      eligibility: {audience: 'customers', customer_ids: ['gid://shopify/Customer/11', 'gid://shopify/Customer/12']},
    };
    expect(roundTrip(o)).toEqual(o);
    const none: Offer = {...o, behaviour: undefined};
    delete none.behaviour;
    expect(roundTrip(none)).toEqual(none);
  });
  it('schedules are wall-clock times in the shop’s timezone', () => {
    const f = offerToForm(everything, usd);
    expect(f.startsAt).toBe('2026-03-01T09:00'); // Paris, winter: UTC+1
    expect(f.endsAt).toBe('2026-07-02T00:00'); // Paris, summer: UTC+2
    expect(offerToForm(everything, {...usd, timeZone: 'UTC'}).startsAt).toBe('2026-03-01T08:00');
  });
});

describe('form to offer', () => {
  it('the new-offer form is a purchase-driven code', () => {
    const f = {...newOfferForm(), name: 'Regulars', code: 'LOYAL15', percentage: '15'};
    const {offer, problems} = formToOffer(f, usd);
    expect(problems).toEqual([]);
    expect(offer).toEqual({
      version: 1,
      id: '',
      name: 'Regulars',
      status: 'active',
      application: {kind: 'code', code: 'LOYAL15'},
      value: {kind: 'percentage', percentage: 15},
      behaviour: {period: {unit: 'days', count: 365}, min_orders: 2},
      condition: {qualifying: {scope: 'all'}},
      eligibility: {audience: 'all'},
      limits: {uses_per_customer: 1},
      schedule: {},
      stacking: {priority: 0, combines_with: {order_discounts: false, product_discounts: true, shipping_discounts: true}},
      preview: {title: 'Regulars', visible: true},
    });
  });
  it('sends only the fields of the chosen kinds', () => {
    const f = {...newOfferForm(), valueKind: 'fixed_amount' as const, amount: '5', percentage: '15', cap: '', applicationKind: 'automatic' as const, code: 'X'};
    const {offer} = formToOffer(f, usd);
    expect(offer.value).toEqual({kind: 'fixed_amount', amount: 500});
    expect(offer.application).toEqual({kind: 'automatic'});
  });
  it('turns numbers typed into id lists into platform ids', () => {
    const f = {...newOfferForm(), audience: 'customers' as const, customerIds: '12, 13\ngid://shopify/Customer/14'};
    expect(formToOffer(f, usd).offer.eligibility.customer_ids).toEqual([
      'gid://shopify/Customer/12',
      'gid://shopify/Customer/13',
      'gid://shopify/Customer/14',
    ]);
  });
  it('reports what it cannot read by the server’s JSON paths', () => {
    const f = {
      ...newOfferForm(),
      percentage: '12.345',
      cap: '1,5',
      valueKind: 'percentage' as const,
      behaviour: {...newOfferForm().behaviour, minSpend: 'lots', periodCount: 'x'},
      startsAt: 'tomorrow',
      priority: 'high',
    };
    const paths = formToOffer(f, usd).problems.map((p) => p.path);
    expect(paths).toEqual(['value.percentage', 'value.cap', 'behaviour.period.count', 'behaviour.min_spend', 'stacking.priority', 'schedule.starts_at']);
    const tiered = {...newOfferForm(), valueKind: 'tiered' as const, tiers: [{threshold: '10.001', kind: 'fixed_amount' as const, percentage: '', amount: 'abc', freeShipping: false}]};
    expect(formToOffer(tiered, usd).problems.map((p) => p.path)).toEqual(['value.tiers[0].threshold', 'value.tiers[0].amount']);
  });
  it('converts money exactly, in the shop’s currency', () => {
    const f = {...newOfferForm(), valueKind: 'fixed_amount' as const, amount: '12.30', minSubtotal: '1.15'};
    expect(formToOffer(f, usd).offer.value.amount).toBe(1230);
    expect(formToOffer(f, usd).offer.condition.min_subtotal).toBe(115);
    const yen = formToOffer({...f, amount: '1230', minSubtotal: '115'}, {...usd, exponent: 0});
    expect(yen.offer.value.amount).toBe(1230);
    expect(yen.problems).toEqual([]);
  });
});

describe('segment offer', () => {
  it('is automatic, tiered by cart value, for the segment, not combined with codes', () => {
    const f = segmentOfferForm({id: 'london', name: 'London VIPs'});
    const {offer, problems} = formToOffer(f, usd);
    expect(problems).toEqual([]);
    expect(offer.application).toEqual({kind: 'automatic'});
    expect(offer.value).toEqual({
      kind: 'tiered',
      tier_basis: 'subtotal',
      tiers: [
        {threshold: 5000, kind: 'percentage', percentage: 5},
        {threshold: 10000, kind: 'percentage', percentage: 10},
      ],
    });
    expect(offer.eligibility).toEqual({audience: 'segment', segment_id: 'london'});
    expect(offer.stacking.combines_with_codes).toBe(false);
    expect(offer.behaviour).toBeUndefined();
  });
});
