// The offer editor's state and its mapping to and from the offer JSON (discountfn.Offer).
//
// The form holds text as typed; formToOffer converts it (money with string arithmetic) and
// reports what it cannot read with the JSON path of the field, the same paths the server uses
// for its 422 problems, so both kinds of error show at the field. Everything else is checked by
// the server (discountfn.Validate), the one source of the rules: the form only sends the fields
// that belong to the chosen kinds.

import {instantToLocal, localToInstant} from './tz';
import {joinList, optionalList, splitIds, splitList} from './lists';
import {moneyInput, parseCount, parseMoney, parsePercent, percentInput, type Parsed} from './money';
import type {
  ApplicationKind,
  Audience,
  Behaviour,
  FieldError,
  IdentityKind,
  ItemScope,
  ItemSet,
  Offer,
  PeriodUnit,
  Segment,
  Tier,
  TierBasis,
  Value,
  ValueKind,
} from './types';

export const IDENTITY_KINDS: IdentityKind[] = ['customer', 'email', 'phone', 'address', 'ip'];

export interface ItemSetForm {
  scope: ItemScope;
  products: string;
  collections: string;
  excludeProducts: string;
  excludeCollections: string;
  excludeGiftCards: boolean;
  excludeSubscriptions: boolean;
}

export type TierKind = Tier['kind'];

export interface TierForm {
  threshold: string;
  kind: TierKind;
  percentage: string;
  amount: string;
  freeShipping: boolean;
}

export interface BehaviourForm {
  periodUnit: PeriodUnit;
  periodCount: string;
  minSpend: string;
  minOrders: string;
  usedCodes: string;
  notUsedCodes: string;
  boughtProducts: string;
  boughtCollections: string;
  deliveryMethod: string;
}

export type EditableStatus = 'draft' | 'active' | 'paused' | 'archived';

export interface OfferForm {
  id: string;
  // Setup
  name: string;
  campaign: string;
  status: EditableStatus;
  applicationKind: ApplicationKind;
  code: string;
  valueKind: ValueKind;
  percentage: string;
  amount: string;
  shippingRateCeiling: string;
  cap: string;
  maxTargetQuantity: string;
  customTargets: boolean;
  targets: ItemSetForm;
  buy: ItemSetForm;
  buyQuantity: string;
  get: ItemSetForm;
  getQuantity: string;
  tierBasis: TierBasis;
  tiers: TierForm[];
  // Purchase behaviour
  behaviourEnabled: boolean;
  behaviour: BehaviourForm;
  // Condition
  qualifying: ItemSetForm;
  minSubtotal: string;
  maxSubtotal: string;
  minQuantity: string;
  maxQuantity: string;
  // Eligibility
  audience: Audience;
  customerIds: string;
  customerTags: string;
  segmentId: string;
  firstOrderOnly: boolean;
  orderNumberMin: string;
  orderNumberMax: string;
  // Usage limits and schedule
  totalUses: string;
  usesPerCustomer: string;
  identityKeys: IdentityKind[];
  usesPerDay: string;
  disableCashOnDelivery: boolean;
  startsAt: string; // wall-clock in the shop's timezone, "YYYY-MM-DDTHH:mm"
  endsAt: string;
  // Stacking
  priority: string;
  exclusive: boolean;
  combinesWithOrder: boolean;
  combinesWithProduct: boolean;
  combinesWithShipping: boolean;
  combinesWithCodes: boolean; // automatic offers
  combinesWithAutomatic: boolean; // code offers
  // Preview
  previewTitle: string;
  previewDescription: string;
  previewVisible: boolean;
  unlockMessage: string;
}

export interface FormContext {
  exponent: number; // decimals of the shop's currency
  timeZone: string; // the shop's timezone
}

export function emptyItemSet(scope: ItemScope = 'all'): ItemSetForm {
  return {
    scope,
    products: '',
    collections: '',
    excludeProducts: '',
    excludeCollections: '',
    excludeGiftCards: false,
    excludeSubscriptions: false,
  };
}

export function emptyBehaviour(): BehaviourForm {
  return {
    periodUnit: 'days',
    periodCount: '365',
    minSpend: '',
    minOrders: '',
    usedCodes: '',
    notUsedCodes: '',
    boughtProducts: '',
    boughtCollections: '',
    deliveryMethod: '',
  };
}

export function emptyTier(kind: TierKind = 'percentage'): TierForm {
  return {threshold: '', kind, percentage: '', amount: '', freeShipping: false};
}

/** newOfferForm is the editor's start: a purchase-driven code for returning customers. */
export function newOfferForm(): OfferForm {
  return {
    id: '',
    name: '',
    campaign: '',
    status: 'active',
    applicationKind: 'code',
    code: '',
    valueKind: 'percentage',
    percentage: '10',
    amount: '',
    shippingRateCeiling: '',
    cap: '',
    maxTargetQuantity: '',
    customTargets: false,
    targets: emptyItemSet(),
    buy: emptyItemSet('products'),
    buyQuantity: '1',
    get: emptyItemSet('products'),
    getQuantity: '1',
    tierBasis: 'subtotal',
    tiers: [emptyTier()],
    behaviourEnabled: true,
    behaviour: {...emptyBehaviour(), minOrders: '2'},
    qualifying: emptyItemSet(),
    minSubtotal: '',
    maxSubtotal: '',
    minQuantity: '',
    maxQuantity: '',
    audience: 'all',
    customerIds: '',
    customerTags: '',
    segmentId: '',
    firstOrderOnly: false,
    orderNumberMin: '',
    orderNumberMax: '',
    totalUses: '',
    usesPerCustomer: '1',
    identityKeys: [],
    usesPerDay: '',
    disableCashOnDelivery: false,
    startsAt: '',
    endsAt: '',
    priority: '0',
    exclusive: false,
    combinesWithOrder: false,
    combinesWithProduct: true,
    combinesWithShipping: true,
    combinesWithCodes: true,
    combinesWithAutomatic: true,
    previewTitle: '',
    previewDescription: '',
    previewVisible: true,
    unlockMessage: '',
  };
}

/**
 * segmentOfferForm is a new offer for a segment: automatic, tiered by cart value, for the
 * segment's customers only, and whether it combines with codes as a switch.
 */
export function segmentOfferForm(segment: Pick<Segment, 'id' | 'name'>): OfferForm {
  const f = newOfferForm();
  return {
    ...f,
    name: `${segment.name}: spend more, save more`,
    applicationKind: 'automatic',
    valueKind: 'tiered',
    tierBasis: 'subtotal',
    tiers: [
      {...emptyTier('percentage'), threshold: '50', percentage: '5'},
      {...emptyTier('percentage'), threshold: '100', percentage: '10'},
    ],
    behaviourEnabled: false,
    audience: 'segment',
    segmentId: segment.id,
    usesPerCustomer: '',
    combinesWithCodes: false,
    previewTitle: `${segment.name} savings`,
    unlockMessage: 'Spend {amount} more to unlock {title}',
  };
}

// ---------- offer → form ----------

function itemSetToForm(s: ItemSet | undefined | null, defaultScope: ItemScope = 'all'): ItemSetForm {
  if (!s) return emptyItemSet(defaultScope);
  return {
    scope: s.scope || 'all',
    products: joinList(s.product_ids),
    collections: joinList(s.collection_ids),
    excludeProducts: joinList(s.exclude_product_ids),
    excludeCollections: joinList(s.exclude_collection_ids),
    excludeGiftCards: !!s.exclude_gift_cards,
    excludeSubscriptions: !!s.exclude_subscriptions,
  };
}

export function behaviourToForm(b: Behaviour, ctx: FormContext): BehaviourForm {
  return {
    periodUnit: b.period?.unit || 'lifetime',
    periodCount: b.period?.count ? String(b.period.count) : '',
    minSpend: moneyInput(b.min_spend, ctx.exponent),
    minOrders: b.min_orders ? String(b.min_orders) : '',
    usedCodes: joinList(b.used_codes),
    notUsedCodes: joinList(b.not_used_codes),
    boughtProducts: joinList(b.bought_product_ids),
    boughtCollections: joinList(b.bought_collection_ids),
    deliveryMethod: b.delivery_method ?? '',
  };
}

function countInput(n: number | undefined | null): string {
  return n ? String(n) : '';
}

export function offerToForm(o: Offer, ctx: FormContext): OfferForm {
  const v = o.value;
  const base = newOfferForm();
  const status: EditableStatus =
    o.status === 'scheduled' || o.status === 'expired' ? 'active' : (o.status as EditableStatus) || 'draft';
  const tierMoney = v.tier_basis !== 'quantity';
  return {
    id: o.id ?? '',
    name: o.name ?? '',
    campaign: o.campaign ?? '',
    status,
    applicationKind: o.application?.kind ?? 'code',
    code: o.application?.code ?? '',
    valueKind: v.kind,
    percentage: percentInput(v.percentage),
    amount: moneyInput(v.amount, ctx.exponent),
    shippingRateCeiling: moneyInput(v.shipping_rate_ceiling, ctx.exponent),
    cap: moneyInput(v.cap, ctx.exponent),
    maxTargetQuantity: countInput(v.max_target_quantity),
    customTargets: !!v.targets,
    targets: itemSetToForm(v.targets),
    buy: itemSetToForm(v.buy_x_get_y?.buy, 'products'),
    buyQuantity: v.buy_x_get_y ? String(v.buy_x_get_y.buy_quantity) : base.buyQuantity,
    get: itemSetToForm(v.buy_x_get_y?.get, 'products'),
    getQuantity: v.buy_x_get_y ? String(v.buy_x_get_y.get_quantity) : base.getQuantity,
    tierBasis: v.tier_basis || 'subtotal',
    tiers:
      v.tiers && v.tiers.length > 0
        ? v.tiers.map((t) => ({
            threshold: tierMoney ? moneyInput(t.threshold, ctx.exponent) : String(t.threshold),
            kind: t.kind,
            percentage: percentInput(t.percentage),
            amount: moneyInput(t.amount, ctx.exponent),
            freeShipping: !!t.free_shipping,
          }))
        : base.tiers,
    behaviourEnabled: !!o.behaviour,
    behaviour: o.behaviour ? behaviourToForm(o.behaviour, ctx) : emptyBehaviour(),
    qualifying: itemSetToForm(o.condition?.qualifying),
    minSubtotal: moneyInput(o.condition?.min_subtotal, ctx.exponent),
    maxSubtotal: moneyInput(o.condition?.max_subtotal, ctx.exponent),
    minQuantity: countInput(o.condition?.min_quantity),
    maxQuantity: countInput(o.condition?.max_quantity),
    audience: o.eligibility?.audience ?? 'all',
    customerIds: joinList(o.eligibility?.customer_ids),
    customerTags: joinList(o.eligibility?.customer_tags),
    segmentId: o.eligibility?.segment_id ?? '',
    firstOrderOnly: !!o.eligibility?.first_order_only,
    orderNumberMin: countInput(o.eligibility?.order_number?.min),
    orderNumberMax: countInput(o.eligibility?.order_number?.max),
    totalUses: countInput(o.limits?.total_uses),
    usesPerCustomer: countInput(o.limits?.uses_per_customer),
    identityKeys: IDENTITY_KINDS.filter((k) => o.limits?.identity_keys?.includes(k)),
    usesPerDay: countInput(o.limits?.uses_per_day),
    disableCashOnDelivery: !!o.limits?.disable_cash_on_delivery,
    startsAt: instantToLocal(o.schedule?.starts_at, ctx.timeZone),
    endsAt: instantToLocal(o.schedule?.ends_at, ctx.timeZone),
    priority: String(o.stacking?.priority ?? 0),
    exclusive: !!o.stacking?.exclusive,
    combinesWithOrder: !!o.stacking?.combines_with?.order_discounts,
    combinesWithProduct: !!o.stacking?.combines_with?.product_discounts,
    combinesWithShipping: !!o.stacking?.combines_with?.shipping_discounts,
    combinesWithCodes: o.stacking?.combines_with_codes ?? true,
    combinesWithAutomatic: o.stacking?.combines_with_automatic ?? true,
    previewTitle: o.preview?.title ?? '',
    previewDescription: o.preview?.description ?? '',
    previewVisible: !!o.preview?.visible,
    unlockMessage: o.preview?.unlock_message ?? '',
  };
}

// ---------- form → offer ----------

/** Reader collects what the form cannot read, by JSON path. */
class Reader {
  readonly problems: FieldError[] = [];
  constructor(readonly ctx: FormContext) {}

  private take<T>(path: string, r: Parsed<T>): T | undefined {
    if (!r.ok) {
      this.problems.push({path, message: r.error});
      return undefined;
    }
    return r.value;
  }

  /** money is minor units, undefined when empty or unreadable. */
  money(path: string, text: string): number | undefined {
    return this.take(path, parseMoney(text, this.ctx.exponent)) ?? undefined;
  }

  /** requiredMoney is money that the server requires: 0 when empty, so the server says so. */
  requiredMoney(path: string, text: string): number {
    return this.money(path, text) ?? 0;
  }

  percent(path: string, text: string): number | undefined {
    return this.take(path, parsePercent(text)) ?? undefined;
  }

  count(path: string, text: string, max = 1_000_000_000): number | undefined {
    const v = this.take(path, parseCount(text, {max}));
    return v ?? undefined;
  }

  integer(path: string, text: string): number {
    const s = text.trim();
    if (s === '') return 0;
    if (!/^[-+]?\d{1,9}$/.test(s)) {
      this.problems.push({path, message: 'Enter a whole number'});
      return 0;
    }
    return Number(s);
  }

  instant(path: string, local: string): string | undefined {
    try {
      return localToInstant(local, this.ctx.timeZone) ?? undefined;
    } catch (e) {
      this.problems.push({path, message: (e as Error).message});
      return undefined;
    }
  }
}

function itemSetFromForm(f: ItemSetForm): ItemSet {
  const s: ItemSet = {scope: f.scope};
  if (f.scope === 'products') s.product_ids = splitIds(f.products, 'Product');
  if (f.scope === 'collections') s.collection_ids = splitIds(f.collections, 'Collection');
  const exP = splitIds(f.excludeProducts, 'Product');
  const exC = splitIds(f.excludeCollections, 'Collection');
  if (exP.length) s.exclude_product_ids = exP;
  if (exC.length) s.exclude_collection_ids = exC;
  if (f.excludeGiftCards) s.exclude_gift_cards = true;
  if (f.excludeSubscriptions) s.exclude_subscriptions = true;
  return s;
}

export function behaviourFromForm(b: BehaviourForm, r: Reader, path: string): Behaviour {
  const out: Behaviour = {period: {unit: b.periodUnit}};
  if (b.periodUnit !== 'lifetime') {
    out.period.count = r.count(`${path}.period.count`, b.periodCount) ?? 0;
  }
  const minSpend = r.money(`${path}.min_spend`, b.minSpend);
  if (minSpend) out.min_spend = minSpend;
  const minOrders = r.count(`${path}.min_orders`, b.minOrders);
  if (minOrders) out.min_orders = minOrders;
  out.used_codes = optionalList(splitList(b.usedCodes));
  out.not_used_codes = optionalList(splitList(b.notUsedCodes));
  out.bought_product_ids = optionalList(splitIds(b.boughtProducts, 'Product'));
  out.bought_collection_ids = optionalList(splitIds(b.boughtCollections, 'Collection'));
  if (b.deliveryMethod.trim()) out.delivery_method = b.deliveryMethod.trim();
  return prune(out);
}

function valueFromForm(f: OfferForm, r: Reader): Value {
  const v: Value = {kind: f.valueKind};
  const kind = f.valueKind;
  if (kind === 'percentage' || kind === 'buy_x_get_y') {
    v.percentage = r.percent('value.percentage', f.percentage) ?? 0;
  }
  if (kind === 'fixed_amount') {
    v.amount = r.requiredMoney('value.amount', f.amount);
  }
  const tiersShip = kind === 'tiered' && f.tiers.some((t) => t.kind === 'free_shipping' || t.freeShipping);
  if (kind === 'free_shipping' || tiersShip) {
    const ceiling = r.money('value.shipping_rate_ceiling', f.shippingRateCeiling);
    if (ceiling) v.shipping_rate_ceiling = ceiling;
  }
  if ((kind === 'percentage' || kind === 'fixed_amount' || kind === 'tiered') && f.customTargets) {
    v.targets = itemSetFromForm(f.targets);
  }
  if (kind === 'percentage' || kind === 'fixed_amount') {
    const n = r.count('value.max_target_quantity', f.maxTargetQuantity);
    if (n) v.max_target_quantity = n;
  }
  if (kind !== 'free_shipping') {
    const cap = r.money('value.cap', f.cap);
    if (cap) v.cap = cap;
  }
  if (kind === 'buy_x_get_y') {
    v.buy_x_get_y = {
      buy: itemSetFromForm(f.buy),
      buy_quantity: r.count('value.buy_x_get_y.buy_quantity', f.buyQuantity) ?? 0,
      get: itemSetFromForm(f.get),
      get_quantity: r.count('value.buy_x_get_y.get_quantity', f.getQuantity) ?? 0,
    };
  }
  if (kind === 'tiered') {
    v.tier_basis = f.tierBasis;
    v.tiers = f.tiers.map((t, i) => {
      const p = `value.tiers[${i}]`;
      const threshold =
        f.tierBasis === 'quantity'
          ? (r.count(`${p}.threshold`, t.threshold) ?? 0)
          : r.requiredMoney(`${p}.threshold`, t.threshold);
      const tier: Tier = {threshold, kind: t.kind};
      if (t.kind === 'percentage') tier.percentage = r.percent(`${p}.percentage`, t.percentage) ?? 0;
      if (t.kind === 'fixed_amount') tier.amount = r.requiredMoney(`${p}.amount`, t.amount);
      if (t.kind !== 'free_shipping' && t.freeShipping) tier.free_shipping = true;
      return tier;
    });
  }
  return v;
}

/**
 * formToOffer builds the offer JSON from the form. problems lists the fields it could not read
 * (with the server's JSON paths); the offer is only sent when there are none.
 */
export function formToOffer(f: OfferForm, ctx: FormContext): {offer: Offer; problems: FieldError[]} {
  const r = new Reader(ctx);
  const isCode = f.applicationKind === 'code' || f.applicationKind === 'codes';
  const offer: Offer = {
    version: 1,
    id: f.id,
    name: f.name.trim(),
    campaign: f.campaign.trim() || undefined,
    status: f.status,
    application:
      f.applicationKind === 'code' ? {kind: 'code', code: f.code.trim()} : {kind: f.applicationKind},
    value: valueFromForm(f, r),
    behaviour: f.behaviourEnabled ? behaviourFromForm(f.behaviour, r, 'behaviour') : undefined,
    condition: {qualifying: itemSetFromForm(f.qualifying)},
    eligibility: {audience: f.audience},
    limits: {},
    schedule: {},
    stacking: {
      priority: r.integer('stacking.priority', f.priority),
      combines_with: {
        order_discounts: f.combinesWithOrder,
        product_discounts: f.combinesWithProduct,
        shipping_discounts: f.combinesWithShipping,
      },
    },
    // A visible offer needs a title; without one the shopper sees the name, as the preview shows.
    preview: {title: f.previewTitle.trim() || (f.previewVisible ? f.name.trim() : ''), visible: f.previewVisible},
  };

  const c = offer.condition;
  const minSubtotal = r.money('condition.min_subtotal', f.minSubtotal);
  const maxSubtotal = r.money('condition.max_subtotal', f.maxSubtotal);
  const minQuantity = r.count('condition.min_quantity', f.minQuantity);
  const maxQuantity = r.count('condition.max_quantity', f.maxQuantity);
  if (minSubtotal) c.min_subtotal = minSubtotal;
  if (maxSubtotal) c.max_subtotal = maxSubtotal;
  if (minQuantity) c.min_quantity = minQuantity;
  if (maxQuantity) c.max_quantity = maxQuantity;

  const e = offer.eligibility;
  if (f.audience === 'customers') e.customer_ids = splitIds(f.customerIds, 'Customer');
  if (f.audience === 'tags') e.customer_tags = splitList(f.customerTags);
  if (f.audience === 'segment') e.segment_id = f.segmentId;
  if (f.firstOrderOnly) e.first_order_only = true;
  const nMin = r.count('eligibility.order_number.min', f.orderNumberMin);
  const nMax = r.count('eligibility.order_number.max', f.orderNumberMax);
  if (nMin || nMax) e.order_number = prune({min: nMin || undefined, max: nMax || undefined});

  const l = offer.limits;
  const total = r.count('limits.total_uses', f.totalUses);
  const perCustomer = r.count('limits.uses_per_customer', f.usesPerCustomer);
  const perDay = r.count('limits.uses_per_day', f.usesPerDay);
  if (total) l.total_uses = total;
  if (perCustomer) {
    l.uses_per_customer = perCustomer;
    const keys = IDENTITY_KINDS.filter((k) => f.identityKeys.includes(k));
    if (keys.length) l.identity_keys = keys;
  }
  if (perDay) l.uses_per_day = perDay;
  if (f.disableCashOnDelivery) l.disable_cash_on_delivery = true;

  const starts = r.instant('schedule.starts_at', f.startsAt);
  const ends = r.instant('schedule.ends_at', f.endsAt);
  if (starts) offer.schedule.starts_at = starts;
  if (ends) offer.schedule.ends_at = ends;

  if (f.exclusive) offer.stacking.exclusive = true;
  // Nil means yes on the server: only a "no" is written.
  if (f.applicationKind === 'automatic' && !f.combinesWithCodes) offer.stacking.combines_with_codes = false;
  if (isCode && !f.combinesWithAutomatic) offer.stacking.combines_with_automatic = false;

  if (f.previewDescription.trim()) offer.preview.description = f.previewDescription;
  if (f.unlockMessage.trim()) offer.preview.unlock_message = f.unlockMessage.trim();

  return {offer: prune(offer), problems: r.problems};
}

/** prune drops undefined members (so JSON.stringify and comparisons see only what is set). */
function prune<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) {
    if (o[k] === undefined) delete o[k];
  }
  return o;
}

/** offerTitle is what the shopper sees as the offer's title. */
export function shopperTitle(f: Pick<OfferForm, 'previewTitle' | 'name'>): string {
  return f.previewTitle.trim() || f.name.trim();
}

export {Reader};
