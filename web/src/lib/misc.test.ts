import {describe, expect, it} from 'vitest';

import {exampleCode, planChunks} from './codes';
import {describeValue, reasonText} from './describe';
import {newOfferForm} from './offerForm';
import {fillUnlock, unknownPlaceholders, unlockPreview} from './preview';
import {describeRules, formToSegment, moveItem, newSegmentForm, segmentToForm} from './segmentForm';
import {newSimForm, simRequest} from './simulate';
import {splitIds, splitList} from './lists';

const ctx = {exponent: 2, timeZone: 'UTC'};

describe('code generation in chunks', () => {
  it('splits N into about ten requests that add up to N', () => {
    for (const n of [1, 99, 100, 101, 1000, 1234, 25_000, 100_000, 1_000_000]) {
      const chunks = planChunks(n);
      expect(chunks.reduce((a, b) => a + b, 0)).toBe(n);
      expect(Math.max(...chunks)).toBeLessThanOrEqual(10_000);
      expect(chunks.length).toBeLessThanOrEqual(Math.max(10, Math.ceil(n / 10_000)));
    }
    expect(planChunks(50)).toEqual([50]);
    expect(planChunks(1000)).toEqual(Array(10).fill(100));
    expect(planChunks(0)).toEqual([]);
  });
  it('shows what a code looks like', () => {
    expect(exampleCode({length: 6, charset: 'digits', prefix: 'vip', suffix: ''})).toMatch(/^VIP\d{6}$/);
  });
});

describe('shopper preview', () => {
  it('substitutes {amount} and {title} as the engine does', () => {
    expect(fillUnlock('Spend {amount} more for {title}: {amount}!', '5.00 USD', 'Gold')).toBe('Spend 5.00 USD more for Gold: 5.00 USD!');
    expect(unlockPreview({template: '', title: 'Gold', missing: 1250, byQuantity: false, currency: 'USD'})).toBe(
      'Spend 12.50 USD more to get Gold',
    );
    expect(unlockPreview({template: '', title: 'Gold', missing: 2, byQuantity: true, currency: 'USD'})).toBe('Add 2 more items to get Gold');
    expect(unknownPlaceholders('{amount} {name} {title} {x}')).toEqual(['{name}', '{x}']);
  });
  it('summarises the value', () => {
    const f = {...newOfferForm(), percentage: '15', cap: '20'};
    expect(describeValue(f, 'USD', 2)).toBe('15% off, at most $20.00');
    const tiers = {
      ...newOfferForm(),
      valueKind: 'tiered' as const,
      tiers: [
        {threshold: '50', kind: 'percentage' as const, percentage: '5', amount: '', freeShipping: false},
        {threshold: '100', kind: 'fixed_amount' as const, percentage: '', amount: '15', freeShipping: true},
      ],
    };
    expect(describeValue(tiers, 'USD', 2)).toBe('$50.00+: 5% off · $100.00+: $15.00 off + free shipping');
  });
  it('explains reasons', () => {
    expect(reasonText('cart_subtotal_below_minimum')).toBe('The cart subtotal is below the minimum.');
    expect(reasonText('something_new')).toBe('something new');
  });
});

describe('segments', () => {
  it('round-trips a segment and writes countries in capitals', () => {
    const seg = {
      id: 's1',
      name: 'London VIPs',
      priority: 3,
      rules: {
        customer_tags: ['VIP'],
        cities: ['London'],
        postcodes: ['E1', 'N1'],
        countries: ['GB'],
        delivery_methods: ['Royal Mail'],
        behaviour: {period: {unit: 'days' as const, count: 90}, min_orders: 2, min_spend: 5000},
      },
    };
    expect(formToSegment(segmentToForm(seg, ctx), ctx)).toEqual({segment: seg, problems: []});
    const f = {...newSegmentForm(), name: ' Local ', countries: 'gb, fr'};
    expect(formToSegment(f, ctx).segment).toEqual({id: '', name: 'Local', priority: 0, rules: {countries: ['GB', 'FR']}});
    expect(formToSegment({...f, priority: 'top'}, ctx).problems.map((p) => p.path)).toEqual(['priority']);
    expect(describeRules(seg.rules)).toBe(
      'Customers tagged VIP; delivering to London, E1…, N1…, GB; by Royal Mail; with 2+ orders, a minimum spend in the last 90 days',
    );
  });
  it('moves items', () => {
    expect(moveItem(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b']);
    expect(moveItem(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
    expect(moveItem(['a', 'b'], 0, 5)).toEqual(['a', 'b']);
  });
});

describe('simulator request', () => {
  it('builds the body of POST /api/simulate', () => {
    const f = {
      ...newSimForm(),
      mode: 'typed' as const,
      email: 'ada@example.com',
      tags: 'VIP, local',
      orders: '4',
      spend: '250.50',
      codes: 'loyal15',
      country: 'gb',
      city: 'London',
      zip: 'E1 6AN',
      lines: [{productId: '7', variantId: '8', title: 'Mug', quantity: '2', unitPrice: '18', collections: '3', giftCard: false}],
    };
    expect(simRequest(f, ctx)).toEqual({
      problems: [],
      request: {
        customer: {id: '', email: 'ada@example.com', tags: ['VIP', 'local']},
        history: {orders: 4, spend: 25050},
        lines: [
          {
            product_id: 'gid://shopify/Product/7',
            variant_id: 'gid://shopify/ProductVariant/8',
            title: 'Mug',
            quantity: 2,
            unit_price: 1800,
            collection_ids: ['gid://shopify/Collection/3'],
          },
        ],
        codes: ['loyal15'],
        address: {country_code: 'GB', city: 'London', zip: 'E1 6AN'},
        delivery_options: [{title: 'Standard', cost: 500}],
        delivery_method: 'Standard',
      },
    });
  });
  it('asks for a customer, and reads line fields by path', () => {
    const f = {...newSimForm(), lines: [{...newSimForm().lines[0], unitPrice: '1.234', quantity: 'two'}]};
    expect(simRequest(f, ctx).problems.map((p) => p.path)).toEqual(['customer', 'lines[0].quantity', 'lines[0].unit_price']);
    expect(simRequest({...newSimForm(), mode: 'guest'}, ctx).request.customer).toBeNull();
  });
});

describe('lists', () => {
  it('split on lines and commas', () => {
    expect(splitList(' a, b\n\nc ,')).toEqual(['a', 'b', 'c']);
    expect(splitIds('1\ngid://shopify/Product/2\nfoo', 'Product')).toEqual(['gid://shopify/Product/1', 'gid://shopify/Product/2', 'foo']);
  });
});
