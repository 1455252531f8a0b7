// The checkout simulator's form and the body of POST /api/simulate (app/simulate.go).

import {optionalList, splitIds, splitList} from './lists';
import {Reader, type FormContext} from './offerForm';
import type {Customer, FieldError} from './types';

export interface LineForm {
  productId: string;
  variantId: string;
  title: string;
  quantity: string;
  unitPrice: string;
  collections: string;
  giftCard: boolean;
}

export interface DeliveryForm {
  title: string;
  cost: string;
}

export type BuyerMode = 'stored' | 'typed' | 'guest';

export interface SimForm {
  mode: BuyerMode;
  customer: Customer | null; // the stored customer picked
  overrideHistory: boolean; // stored customer: replace the stored history with the typed one
  customerId: string; // typed buyer
  email: string;
  tags: string;
  orders: string;
  spend: string;
  usedCodes: string;
  boughtProducts: string;
  lines: LineForm[];
  codes: string;
  country: string;
  city: string;
  zip: string;
  deliveryOptions: DeliveryForm[];
  deliveryMethod: string;
}

export function emptyLine(): LineForm {
  return {productId: '', variantId: '', title: '', quantity: '1', unitPrice: '', collections: '', giftCard: false};
}

export function newSimForm(): SimForm {
  return {
    mode: 'stored',
    customer: null,
    overrideHistory: false,
    customerId: '',
    email: '',
    tags: '',
    orders: '3',
    spend: '120',
    usedCodes: '',
    boughtProducts: '',
    lines: [{...emptyLine(), productId: '1', title: 'Sample product', quantity: '2', unitPrice: '25.00'}],
    codes: '',
    country: '',
    city: '',
    zip: '',
    deliveryOptions: [{title: 'Standard', cost: '5.00'}],
    deliveryMethod: 'Standard',
  };
}

export interface SimRequest {
  customer: {id: string; email: string; tags: string[]} | null;
  history: {orders: number; spend: number; used_codes?: string[]; bought_product_ids?: string[]} | null;
  lines: {
    product_id: string;
    variant_id: string;
    title: string;
    quantity: number;
    unit_price: number;
    collection_ids?: string[];
    gift_card?: boolean;
  }[];
  codes: string[];
  address: {country_code: string; city: string; zip: string} | null;
  delivery_options: {title: string; cost: number}[];
  delivery_method: string;
}

/** simRequest builds the body of POST /api/simulate, with the fields it cannot read by JSON path. */
export function simRequest(f: SimForm, ctx: FormContext): {request: SimRequest; problems: FieldError[]} {
  const r = new Reader(ctx);
  let customer: SimRequest['customer'] = null;
  let history: SimRequest['history'] = null;
  const typedHistory = () => {
    const h: NonNullable<SimRequest['history']> = {
      orders: r.count('history.orders', f.orders) ?? 0,
      spend: r.money('history.spend', f.spend) ?? 0,
    };
    const used = optionalList(splitList(f.usedCodes));
    const bought = optionalList(splitIds(f.boughtProducts, 'Product'));
    if (used) h.used_codes = used;
    if (bought) h.bought_product_ids = bought;
    return h;
  };
  if (f.mode === 'stored') {
    if (!f.customer) r.problems.push({path: 'customer', message: 'Choose a customer, or simulate a typed history or a guest'});
    else customer = {id: f.customer.id, email: f.customer.email ?? '', tags: f.customer.tags ?? []};
    if (f.overrideHistory) history = typedHistory();
  } else if (f.mode === 'typed') {
    const id = splitIds(f.customerId, 'Customer')[0] ?? '';
    customer = {id, email: f.email.trim(), tags: splitList(f.tags)};
    history = typedHistory();
  }
  const lines = f.lines.map((l, i) => {
    const p = `lines[${i}]`;
    const line: SimRequest['lines'][number] = {
      product_id: splitIds(l.productId, 'Product')[0] ?? '',
      variant_id: splitIds(l.variantId, 'Product')[0]?.replace('/Product/', '/ProductVariant/') ?? '',
      title: l.title.trim(),
      quantity: r.count(`${p}.quantity`, l.quantity) ?? 0,
      unit_price: r.money(`${p}.unit_price`, l.unitPrice) ?? 0,
    };
    const cols = optionalList(splitIds(l.collections, 'Collection'));
    if (cols) line.collection_ids = cols;
    if (l.giftCard) line.gift_card = true;
    return line;
  });
  const delivery_options = f.deliveryOptions
    .filter((d) => d.title.trim() !== '')
    .map((d, i) => ({title: d.title.trim(), cost: r.money(`delivery_options[${i}].cost`, d.cost) ?? 0}));
  const hasAddress = f.country.trim() || f.city.trim() || f.zip.trim();
  return {
    request: {
      customer,
      history,
      lines,
      codes: splitList(f.codes),
      address: hasAddress ? {country_code: f.country.trim().toUpperCase(), city: f.city.trim(), zip: f.zip.trim()} : null,
      delivery_options,
      delivery_method: f.deliveryMethod.trim(),
    },
    problems: r.problems,
  };
}
