// The JSON shapes of the admin API (app/*.go) and of the offer model (discountfn/offer.go).
// Money is minor units of the shop's currency; percentages are decimal numbers (12.5).

export type Status = 'draft' | 'active' | 'paused' | 'archived' | 'scheduled' | 'expired';
export type ApplicationKind = 'code' | 'codes' | 'automatic';
export type ValueKind = 'percentage' | 'fixed_amount' | 'free_shipping' | 'buy_x_get_y' | 'tiered';
export type ItemScope = 'all' | 'products' | 'collections';
export type PeriodUnit = 'lifetime' | 'days' | 'weeks' | 'months';
export type Audience = 'all' | 'customers' | 'tags' | 'segment';
export type IdentityKind = 'customer' | 'email' | 'phone' | 'address' | 'ip';
export type TierBasis = 'subtotal' | 'quantity';

export interface ItemSet {
  scope: ItemScope;
  product_ids?: string[];
  collection_ids?: string[];
  exclude_product_ids?: string[];
  exclude_collection_ids?: string[];
  exclude_gift_cards?: boolean;
  exclude_subscriptions?: boolean;
}

export interface Tier {
  threshold: number;
  kind: 'percentage' | 'fixed_amount' | 'free_shipping';
  percentage?: number;
  amount?: number;
  free_shipping?: boolean;
}

export interface BuyXGetY {
  buy: ItemSet;
  buy_quantity: number;
  get: ItemSet;
  get_quantity: number;
}

export interface Value {
  kind: ValueKind;
  percentage?: number;
  amount?: number;
  shipping_rate_ceiling?: number;
  targets?: ItemSet;
  max_target_quantity?: number;
  cap?: number;
  buy_x_get_y?: BuyXGetY;
  tiers?: Tier[];
  tier_basis?: TierBasis;
}

export interface Period {
  unit: PeriodUnit;
  count?: number;
}

export interface Behaviour {
  period: Period;
  min_spend?: number;
  min_orders?: number;
  used_codes?: string[];
  not_used_codes?: string[];
  bought_product_ids?: string[];
  bought_collection_ids?: string[];
  delivery_method?: string;
}

export interface Condition {
  qualifying: ItemSet;
  min_subtotal?: number;
  max_subtotal?: number;
  min_quantity?: number;
  max_quantity?: number;
}

export interface IntRange {
  min?: number;
  max?: number;
}

export interface Eligibility {
  audience: Audience;
  customer_ids?: string[];
  customer_tags?: string[];
  segment_id?: string;
  first_order_only?: boolean;
  order_number?: IntRange;
}

export interface Limits {
  total_uses?: number;
  uses_per_customer?: number;
  identity_keys?: IdentityKind[];
  uses_per_day?: number;
  disable_cash_on_delivery?: boolean;
}

export interface Schedule {
  starts_at?: string;
  ends_at?: string;
}

export interface CombinesWith {
  order_discounts: boolean;
  product_discounts: boolean;
  shipping_discounts: boolean;
}

export interface Stacking {
  priority: number;
  exclusive?: boolean;
  combines_with: CombinesWith;
  combines_with_codes?: boolean;
  combines_with_automatic?: boolean;
}

export interface Preview {
  title: string;
  description?: string;
  visible: boolean;
  unlock_message?: string;
}

export interface Offer {
  version: number;
  id: string;
  name: string;
  campaign?: string;
  status: Status;
  application: {kind: ApplicationKind; code?: string};
  value: Value;
  behaviour?: Behaviour;
  condition: Condition;
  eligibility: Eligibility;
  limits: Limits;
  schedule: Schedule;
  stacking: Stacking;
  preview: Preview;
}

/** One row of GET /api/offers. */
export interface OfferSummary {
  id: string;
  name: string;
  title: string;
  status: Status;
  lifecycle: Status;
  kind: ValueKind;
  application: ApplicationKind;
  code?: string;
  version: number;
  updated_at: string;
  sync_state: string;
}

/** GET /api/offers/:id and the answers of writes. */
export interface OfferRecord {
  id: string;
  version: number;
  status: Status;
  lifecycle: Status;
  created_at: string;
  updated_at: string;
  offer: Offer;
}

export interface FieldError {
  path: string;
  message: string;
}

export interface SegmentRules {
  customer_tags?: string[];
  cities?: string[];
  postcodes?: string[];
  countries?: string[];
  delivery_methods?: string[];
  behaviour?: Behaviour;
}

export interface Segment {
  id: string;
  name: string;
  priority: number;
  rules: SegmentRules;
}

export interface Stats {
  uses: number;
  orders: number;
  discount: number;
  revenue: number;
  aov_with: number;
  aov_without: number;
  orders_without: number;
  customers: number;
  new_customers: number;
  returning_customers: number;
  repeat_customers: number;
  repeat_rate: number;
}

export interface OfferStat extends Stats {
  offer_id: string;
  name: string;
}

export interface CampaignStat extends Stats {
  campaign: string;
  offer_ids: string[];
}

export interface DayStat {
  day: string;
  uses: number;
  discount: number;
  revenue: number;
}

export interface ShopSettings {
  timezone: string;
  count_test_orders: boolean;
  count_cancelled: boolean;
  count_fully_refunded: boolean;
  count_unpaid_cod: boolean;
  cod_gateways: string[];
  release_usage_on_cancel: boolean;
}

export interface Customer {
  id: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  tags?: string[];
  orders?: number;
  spend?: number;
}

export interface Outcome {
  offer_id: string;
  title: string;
  classes?: string[];
  applied: boolean;
  reason?: string;
  detail?: string;
  code?: string;
  amount: number;
  lines?: {line_id: string; quantity: number; amount: number}[];
  shipping_amount: number;
  delivery?: {group_id: string; handle: string; amount: number}[];
}

export interface Hint {
  offer_id: string;
  title: string;
  missing_amount?: number;
  missing_quantity?: number;
  message: string;
}

export interface EngineResult {
  operations: unknown[] | null;
  outcomes: Outcome[] | null;
  hints?: Hint[] | null;
  currency?: string;
}

export interface SimulateAnswer {
  currency: string;
  cart_lines: EngineResult;
  delivery_options: EngineResult;
}

export interface BacktestVariant {
  label: string;
  qualifying_orders: number;
  customers: number;
  cost: number;
  not_qualified: {reason: string; orders: number}[] | null;
  orders: {order_id: string; placed_at: string; amount: number}[] | null;
  truncated?: boolean;
}

export interface BacktestResult {
  offer_id: string;
  days: number;
  from: string;
  until: string;
  orders_considered: number;
  as_placed: BacktestVariant;
  code_entered_by_everyone?: BacktestVariant;
  notes?: string[];
}

export interface BacktestJob {
  job_id: string;
  state: 'running' | 'done' | 'failed';
  processed: number;
  total: number;
  result?: BacktestResult;
  error?: string;
}

export interface RowProblem {
  line: number;
  field: string;
  message: string;
}
