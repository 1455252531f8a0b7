// The segment editor's state and its mapping to and from discountfn.Segment JSON.

import {joinList, optionalList, splitList} from './lists';
import {Reader, behaviourFromForm, behaviourToForm, emptyBehaviour, type BehaviourForm, type FormContext} from './offerForm';
import type {FieldError, Segment, SegmentRules} from './types';

export interface SegmentForm {
  id: string;
  name: string;
  priority: string;
  customerTags: string;
  cities: string;
  postcodes: string;
  countries: string;
  deliveryMethods: string;
  behaviourEnabled: boolean;
  behaviour: BehaviourForm;
}

export function newSegmentForm(): SegmentForm {
  return {
    id: '',
    name: '',
    priority: '',
    customerTags: '',
    cities: '',
    postcodes: '',
    countries: '',
    deliveryMethods: '',
    behaviourEnabled: false,
    behaviour: {...emptyBehaviour(), minOrders: '2'},
  };
}

export function segmentToForm(s: Segment, ctx: FormContext): SegmentForm {
  const r = s.rules ?? {};
  return {
    id: s.id,
    name: s.name,
    priority: String(s.priority),
    customerTags: joinList(r.customer_tags),
    cities: joinList(r.cities),
    postcodes: joinList(r.postcodes),
    countries: joinList(r.countries),
    deliveryMethods: joinList(r.delivery_methods),
    behaviourEnabled: !!r.behaviour,
    behaviour: r.behaviour ? behaviourToForm(r.behaviour, ctx) : {...emptyBehaviour(), minOrders: '2'},
  };
}

/**
 * formToSegment builds the segment JSON. An empty priority is left to the server (a new
 * segment then goes below the others). Country codes are written in capitals, as ISO 3166 has
 * them.
 */
export function formToSegment(f: SegmentForm, ctx: FormContext): {segment: Segment; problems: FieldError[]} {
  const r = new Reader(ctx);
  const rules: SegmentRules = {
    customer_tags: optionalList(splitList(f.customerTags)),
    cities: optionalList(splitList(f.cities)),
    postcodes: optionalList(splitList(f.postcodes)),
    countries: optionalList(splitList(f.countries).map((c) => c.toUpperCase())),
    delivery_methods: optionalList(splitList(f.deliveryMethods)),
    behaviour: f.behaviourEnabled ? behaviourFromForm(f.behaviour, r, 'rules.behaviour') : undefined,
  };
  for (const k of Object.keys(rules) as (keyof SegmentRules)[]) {
    if (rules[k] === undefined) delete rules[k];
  }
  const segment: Segment = {id: f.id, name: f.name.trim(), priority: 0, rules};
  if (f.priority.trim() !== '') segment.priority = r.integer('priority', f.priority);
  return {segment, problems: r.problems};
}

/** SEGMENT_FIELDS are the editor's fields, for placing errors. */
export function segmentFields(f: SegmentForm): string[] {
  const out = ['name', 'priority', 'rules', 'rules.customer_tags', 'rules.cities', 'rules.postcodes', 'rules.countries', 'rules.delivery_methods', 'rules.behaviour'];
  if (f.behaviourEnabled) {
    out.push(
      'rules.behaviour.period.unit',
      'rules.behaviour.period.count',
      'rules.behaviour.min_spend',
      'rules.behaviour.min_orders',
      'rules.behaviour.used_codes',
      'rules.behaviour.not_used_codes',
      'rules.behaviour.bought_product_ids',
      'rules.behaviour.bought_collection_ids',
      'rules.behaviour.delivery_method',
    );
  }
  return out;
}

/** moveItem returns the list with the item at from moved to to. */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  const out = list.slice();
  if (from < 0 || from >= out.length || to < 0 || to >= out.length || from === to) return out;
  const [item] = out.splice(from, 1);
  out.splice(to, 0, item);
  return out;
}

/** describeRules is a short summary of a segment's rules. */
export function describeRules(r: SegmentRules): string {
  const parts: string[] = [];
  if (r.customer_tags?.length) parts.push(`tagged ${r.customer_tags.join(' or ')}`);
  const where = [...(r.cities ?? []), ...(r.postcodes ?? []).map((p) => `${p}…`), ...(r.countries ?? [])];
  if (where.length) parts.push(`delivering to ${where.join(', ')}`);
  if (r.delivery_methods?.length) parts.push(`by ${r.delivery_methods.join(' or ')}`);
  const b = r.behaviour;
  if (b) {
    const bits: string[] = [];
    if (b.min_orders) bits.push(`${b.min_orders}+ orders`);
    if (b.min_spend) bits.push('a minimum spend');
    if (b.bought_product_ids?.length || b.bought_collection_ids?.length) bits.push('bought given products');
    if (b.used_codes?.length) bits.push('used given codes');
    if (b.not_used_codes?.length) bits.push('never used given codes');
    const period = b.period.unit === 'lifetime' ? 'ever' : `in the last ${b.period.count} ${b.period.unit}`;
    if (bits.length) parts.push(`with ${bits.join(', ')} ${period}`);
  }
  return parts.length ? `Customers ${parts.join('; ')}` : 'No rules';
}
