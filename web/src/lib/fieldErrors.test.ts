import {describe, expect, it} from 'vitest';

import {describe as describeProblem, humanPath, owns, placeErrors} from './fieldErrors';
import {allOfferFields, offerFields, sectionOf} from './offerFields';
import {emptyTier, newOfferForm} from './offerForm';

describe('placing errors by JSON path', () => {
  it('a field owns its path and what is under it', () => {
    expect(owns('value.tiers', 'value.tiers[2].threshold')).toBe(true);
    expect(owns('behaviour.used_codes', 'behaviour.used_codes[1]')).toBe(true);
    expect(owns('behaviour', 'behaviour.min_spend')).toBe(true);
    expect(owns('value.cap', 'value.capacity')).toBe(false);
    expect(owns('', 'name')).toBe(false);
  });

  it('the longest matching field wins, list entries name their position', () => {
    const placed = placeErrors(
      [
        {path: 'value.tiers[1].threshold', message: "must be greater than tier 0's threshold"},
        {path: 'behaviour.used_codes[1]', message: 'must contain only letters and digits'},
        {path: 'behaviour', message: 'states no condition; remove it or add one'},
        {path: 'id', message: 'must be the id in the URL'},
        {path: 'name', message: 'is required'},
      ],
      ['value.tiers', 'value.tiers[1].threshold', 'behaviour', 'behaviour.used_codes', 'name'],
    );
    expect(placed.byField).toEqual({
      'value.tiers[1].threshold': ["Must be greater than tier 0's threshold"],
      'behaviour.used_codes': ['Entry 2: Must contain only letters and digits'],
      behaviour: ['States no condition; remove it or add one'],
      name: ['Is required'],
    });
    expect(placed.unplaced).toEqual([{path: 'id', message: 'must be the id in the URL'}]);
  });

  it('a sub-field without its own field is named at its owner', () => {
    expect(describeProblem('value.buy_x_get_y', {path: 'value.buy_x_get_y.buy.scope', message: 'must be one of all'})).toBe(
      'buy.scope: Must be one of all',
    );
    expect(describeProblem('pattern', {path: 'pattern[0].x', message: 'bad'})).toBe('x of entry 1: Bad');
  });

  it('names paths for people', () => {
    expect(humanPath('value.tiers[0].amount')).toBe('value › tiers 1 › amount');
    expect(humanPath('')).toBe('Offer');
  });
});

describe('the editor’s fields', () => {
  it('every server path of a shown field lands in the editor', () => {
    const f = {...newOfferForm(), valueKind: 'tiered' as const, tiers: [emptyTier(), emptyTier('fixed_amount')], audience: 'tags' as const};
    const fields = allOfferFields(f);
    const problems = [
      'name',
      'application.code',
      'value.tiers[1].amount',
      'value.tiers[0].percentage',
      'value.tier_basis',
      'value.cap',
      'behaviour.period.count',
      'behaviour.bought_product_ids[0]',
      'condition.qualifying.product_ids',
      'condition.max_subtotal',
      'eligibility.customer_tags[0]',
      'eligibility.order_number',
      'limits.identity_keys',
      'schedule.ends_at',
      'stacking.priority',
      'stacking.combines_with_automatic',
      'preview.unlock_message',
    ].map((path) => ({path, message: 'x'}));
    const placed = placeErrors(problems, fields);
    expect(placed.unplaced).toEqual([]);
    const sections = offerFields(f);
    expect(sectionOf(sections, 'value.tiers[1].amount')).toBe('setup');
    expect(sectionOf(sections, 'behaviour.period.count')).toBe('behaviour');
    expect(sectionOf(sections, 'eligibility.customer_tags')).toBe('eligibility');
    expect(sectionOf(sections, 'schedule.ends_at')).toBe('limits');
  });
  it('fields of other kinds are not shown', () => {
    const fields = allOfferFields({...newOfferForm(), valueKind: 'free_shipping', applicationKind: 'automatic'});
    expect(fields).toContain('value.shipping_rate_ceiling');
    expect(fields).toContain('stacking.combines_with_codes');
    expect(fields).not.toContain('value.cap');
    expect(fields).not.toContain('application.code');
    expect(fields).not.toContain('value.percentage');
  });
});
