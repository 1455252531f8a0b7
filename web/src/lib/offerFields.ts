// The fields the offer editor shows for a form, by the JSON path of what each edits, and the
// section each belongs to. Errors are placed at these fields (fieldErrors.placeErrors); the
// editor renders exactly these, so no error lands on a hidden field.

import type {OfferForm} from './offerForm';

export type SectionId = 'setup' | 'behaviour' | 'condition' | 'eligibility' | 'limits' | 'preview';

export const SECTION_TITLES: Record<SectionId, string> = {
  setup: 'Setup',
  behaviour: 'Purchase behaviour',
  condition: 'Condition',
  eligibility: 'Eligibility',
  limits: 'Usage limits',
  preview: 'Preview',
};

function itemSetFields(path: string, scope: string): string[] {
  const out = [`${path}.scope`, `${path}.exclude_product_ids`, `${path}.exclude_collection_ids`];
  if (scope === 'products') out.push(`${path}.product_ids`);
  if (scope === 'collections') out.push(`${path}.collection_ids`);
  // Errors about the other list (set for the wrong scope) land on the scope.
  return out;
}

/** offerFields lists the editor's fields for the form, by section. */
export function offerFields(f: OfferForm): Record<SectionId, string[]> {
  const setup = ['name', 'campaign', 'status', 'application.kind', 'value.kind', 'value', 'application'];
  if (f.applicationKind === 'code') setup.push('application.code');
  const k = f.valueKind;
  if (k === 'percentage' || k === 'buy_x_get_y') setup.push('value.percentage');
  if (k === 'fixed_amount') setup.push('value.amount');
  const ships = k === 'free_shipping' || (k === 'tiered' && f.tiers.some((t) => t.kind === 'free_shipping' || t.freeShipping));
  if (ships) setup.push('value.shipping_rate_ceiling');
  if (k !== 'free_shipping') setup.push('value.cap');
  if (k === 'percentage' || k === 'fixed_amount') setup.push('value.max_target_quantity');
  if ((k === 'percentage' || k === 'fixed_amount' || k === 'tiered') && f.customTargets) {
    setup.push('value.targets', ...itemSetFields('value.targets', f.targets.scope));
  }
  if (k === 'buy_x_get_y') {
    setup.push(
      'value.buy_x_get_y',
      ...itemSetFields('value.buy_x_get_y.buy', f.buy.scope),
      'value.buy_x_get_y.buy_quantity',
      ...itemSetFields('value.buy_x_get_y.get', f.get.scope),
      'value.buy_x_get_y.get_quantity',
    );
  }
  if (k === 'tiered') {
    setup.push('value.tier_basis', 'value.tiers');
    f.tiers.forEach((t, i) => {
      const p = `value.tiers[${i}]`;
      setup.push(p, `${p}.threshold`, `${p}.kind`);
      if (t.kind === 'percentage') setup.push(`${p}.percentage`);
      if (t.kind === 'fixed_amount') setup.push(`${p}.amount`);
    });
  }

  const behaviour: string[] = ['behaviour'];
  if (f.behaviourEnabled) {
    behaviour.push(
      'behaviour.period.unit',
      'behaviour.period.count',
      'behaviour.min_spend',
      'behaviour.min_orders',
      'behaviour.used_codes',
      'behaviour.not_used_codes',
      'behaviour.bought_product_ids',
      'behaviour.bought_collection_ids',
      'behaviour.delivery_method',
    );
  }

  const condition = [
    'condition',
    ...itemSetFields('condition.qualifying', f.qualifying.scope),
    'condition.min_subtotal',
    'condition.max_subtotal',
    'condition.min_quantity',
    'condition.max_quantity',
  ];

  const eligibility = ['eligibility', 'eligibility.audience', 'eligibility.first_order_only', 'eligibility.order_number.min', 'eligibility.order_number.max', 'eligibility.order_number'];
  if (f.audience === 'customers') eligibility.push('eligibility.customer_ids');
  if (f.audience === 'tags') eligibility.push('eligibility.customer_tags');
  if (f.audience === 'segment') eligibility.push('eligibility.segment_id');

  const limits = [
    'limits',
    'limits.total_uses',
    'limits.uses_per_customer',
    'limits.uses_per_day',
    'limits.disable_cash_on_delivery',
    'schedule',
    'schedule.starts_at',
    'schedule.ends_at',
    'stacking',
    'stacking.priority',
    'stacking.exclusive',
    'stacking.combines_with',
  ];
  if (f.usesPerCustomer.trim() !== '' && f.usesPerCustomer.trim() !== '0') limits.push('limits.identity_keys');
  if (f.applicationKind === 'automatic') limits.push('stacking.combines_with_codes');
  else limits.push('stacking.combines_with_automatic');

  const preview = ['preview', 'preview.title', 'preview.description', 'preview.visible', 'preview.unlock_message'];
  return {setup, behaviour, condition, eligibility, limits, preview};
}

/** allOfferFields is every field of the form, whatever its section. */
export function allOfferFields(f: OfferForm): string[] {
  return Object.values(offerFields(f)).flat();
}

/** sectionOf is the section of the field, or undefined. */
export function sectionOf(fields: Record<SectionId, string[]>, field: string): SectionId | undefined {
  for (const [id, list] of Object.entries(fields) as [SectionId, string[]][]) {
    if (list.includes(field)) return id;
  }
  return undefined;
}
