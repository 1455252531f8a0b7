import {BlockStack, Checkbox, InlineError, InlineGrid, Select, Text, TextField} from '@shopify/polaris';
import {createContext, useContext, useId, type ReactNode} from 'react';

import type {BehaviourForm, ItemSetForm} from '../lib/offerForm';
import {useShop} from '../shop';

/** ErrorsContext gives each field the messages placed at its JSON path. */
export const ErrorsContext = createContext<Record<string, string[]>>({});

export function useFieldError(path: string | undefined): string | undefined {
  const errors = useContext(ErrorsContext);
  if (!path) return undefined;
  const list = errors[path];
  return list && list.length ? list.join(' ') : undefined;
}

/** SectionError shows problems placed at a section as a whole ("behaviour: states no condition"). */
export function SectionError({path}: {path: string}) {
  const error = useFieldError(path);
  const id = useId();
  if (!error) return null;
  return <InlineError message={error} fieldID={id} />;
}

interface TextProps {
  label: string;
  path?: string;
  value: string;
  onChange: (v: string) => void;
  helpText?: ReactNode;
  placeholder?: string;
  type?: 'text' | 'number' | 'date' | 'datetime-local' | 'search';
  multiline?: number | boolean;
  disabled?: boolean;
  prefix?: ReactNode;
  suffix?: ReactNode;
  maxLength?: number;
  inputMode?: 'text' | 'decimal' | 'numeric';
  error?: string;
  monospaced?: boolean;
  requiredIndicator?: boolean;
  autoFocus?: boolean;
}

/** Field is a text field whose error comes from its JSON path. */
export function Field({path, error, inputMode, ...p}: TextProps) {
  const placed = useFieldError(path);
  return (
    <TextField
      autoComplete="off"
      {...p}
      inputMode={inputMode}
      error={error ?? placed}
      id={path ? `field-${path.replace(/[^a-zA-Z0-9]+/g, '-')}` : undefined}
    />
  );
}

/** MoneyField takes an amount in the shop's currency as decimal text ("12.30"). */
export function MoneyField(p: Omit<TextProps, 'inputMode' | 'suffix'>) {
  const shop = useShop();
  return <Field {...p} inputMode="decimal" suffix={shop.currency} placeholder={p.placeholder ?? (shop.exponent ? `0.${'0'.repeat(shop.exponent)}` : '0')} />;
}

/** CountField takes a whole number. */
export function CountField(p: Omit<TextProps, 'inputMode'>) {
  return <Field {...p} inputMode="numeric" />;
}

/** ListField takes a list, one entry per line (or separated by commas). */
export function ListField(p: Omit<TextProps, 'multiline'> & {lines?: number}) {
  const {lines = 2, helpText, ...rest} = p;
  return <Field {...rest} multiline={lines} helpText={helpText ?? 'One per line, or separated by commas.'} />;
}

interface SelectProps<T extends string> {
  label: string;
  path?: string;
  value: T;
  options: {label: string; value: T}[];
  onChange: (v: T) => void;
  helpText?: ReactNode;
  disabled?: boolean;
}

export function SelectField<T extends string>({path, options, onChange, ...p}: SelectProps<T>) {
  const error = useFieldError(path);
  return <Select {...p} options={options} onChange={(v) => onChange(v as T)} error={error} />;
}

export function CheckField({
  path,
  ...p
}: {
  label: ReactNode;
  path?: string;
  checked: boolean;
  onChange: (v: boolean) => void;
  helpText?: ReactNode;
  disabled?: boolean;
}) {
  const error = useFieldError(path);
  return <Checkbox {...p} onChange={(v) => p.onChange(v)} error={error} />;
}

const SCOPES = [
  {label: 'Entire cart', value: 'all' as const},
  {label: 'Specific products', value: 'products' as const},
  {label: 'Specific collections', value: 'collections' as const},
];

/** ItemSetFields edits a selection of cart items: scope, ids and exclusions. */
export function ItemSetFields({
  path,
  legend,
  value,
  onChange,
}: {
  path: string;
  legend: string;
  value: ItemSetForm;
  onChange: (v: ItemSetForm) => void;
}) {
  const set = <K extends keyof ItemSetForm>(k: K, v: ItemSetForm[K]) => onChange({...value, [k]: v});
  return (
    <fieldset style={{border: 0, padding: 0, margin: 0}}>
      <BlockStack gap="300">
        <legend>
          <Text as="span" variant="headingSm">
            {legend}
          </Text>
        </legend>
        <SelectField label="Applies to" path={`${path}.scope`} value={value.scope} options={SCOPES} onChange={(v) => set('scope', v)} />
        {value.scope === 'products' && (
          <ListField
            label="Products or variants"
            path={`${path}.product_ids`}
            value={value.products}
            onChange={(v) => set('products', v)}
            helpText="Product or variant ids (gid://shopify/Product/… or just the number), one per line."
            monospaced
          />
        )}
        {value.scope === 'collections' && (
          <ListField
            label="Collections"
            path={`${path}.collection_ids`}
            value={value.collections}
            onChange={(v) => set('collections', v)}
            helpText="Collection ids (gid://shopify/Collection/… or just the number), one per line."
            monospaced
          />
        )}
        <InlineGrid columns={{xs: 1, md: 2}} gap="300">
          <ListField
            label="Except products"
            path={`${path}.exclude_product_ids`}
            value={value.excludeProducts}
            onChange={(v) => set('excludeProducts', v)}
            lines={1}
            helpText="Optional."
            monospaced
          />
          <ListField
            label="Except collections"
            path={`${path}.exclude_collection_ids`}
            value={value.excludeCollections}
            onChange={(v) => set('excludeCollections', v)}
            lines={1}
            helpText="Optional."
            monospaced
          />
        </InlineGrid>
        <InlineGrid columns={{xs: 1, md: 2}} gap="300">
          <Checkbox label="Exclude gift cards" checked={value.excludeGiftCards} onChange={(v) => set('excludeGiftCards', v)} />
          <Checkbox label="Exclude subscriptions" checked={value.excludeSubscriptions} onChange={(v) => set('excludeSubscriptions', v)} />
        </InlineGrid>
      </BlockStack>
    </fieldset>
  );
}

const PERIODS = [
  {label: 'Lifetime', value: 'lifetime' as const},
  {label: 'Last … days', value: 'days' as const},
  {label: 'Last … weeks', value: 'weeks' as const},
  {label: 'Last … months', value: 'months' as const},
];

/** BehaviourFields edits a purchase history condition (of an offer or of a segment's rules). */
export function BehaviourFields({
  path,
  value,
  onChange,
}: {
  path: string;
  value: BehaviourForm;
  onChange: (v: BehaviourForm) => void;
}) {
  const set = <K extends keyof BehaviourForm>(k: K, v: BehaviourForm[K]) => onChange({...value, [k]: v});
  return (
    <BlockStack gap="300">
      <InlineGrid columns={{xs: 1, md: 2}} gap="300">
        <SelectField label="Orders counted over" path={`${path}.period.unit`} value={value.periodUnit} options={PERIODS} onChange={(v) => set('periodUnit', v)} />
        {value.periodUnit !== 'lifetime' && (
          <CountField label={`Number of ${value.periodUnit}`} path={`${path}.period.count`} value={value.periodCount} onChange={(v) => set('periodCount', v)} />
        )}
      </InlineGrid>
      <InlineGrid columns={{xs: 1, md: 2}} gap="300">
        <CountField
          label="Minimum number of orders"
          path={`${path}.min_orders`}
          value={value.minOrders}
          onChange={(v) => set('minOrders', v)}
          helpText="Orders placed in the period. Empty: no minimum."
        />
        <MoneyField
          label="Minimum total spend"
          path={`${path}.min_spend`}
          value={value.minSpend}
          onChange={(v) => set('minSpend', v)}
          helpText="Net of refunds, in the period. Empty: no minimum."
        />
      </InlineGrid>
      <InlineGrid columns={{xs: 1, md: 2}} gap="300">
        <ListField label="Used one of these codes" path={`${path}.used_codes`} value={value.usedCodes} onChange={(v) => set('usedCodes', v)} lines={1} />
        <ListField label="Never used these codes" path={`${path}.not_used_codes`} value={value.notUsedCodes} onChange={(v) => set('notUsedCodes', v)} lines={1} />
      </InlineGrid>
      <InlineGrid columns={{xs: 1, md: 2}} gap="300">
        <ListField
          label="Bought one of these products"
          path={`${path}.bought_product_ids`}
          value={value.boughtProducts}
          onChange={(v) => set('boughtProducts', v)}
          lines={1}
          helpText="Product or variant ids."
          monospaced
        />
        <ListField
          label="Bought from one of these collections"
          path={`${path}.bought_collection_ids`}
          value={value.boughtCollections}
          onChange={(v) => set('boughtCollections', v)}
          lines={1}
          helpText="Collection ids."
          monospaced
        />
      </InlineGrid>
      <Field
        label="Only orders delivered by"
        path={`${path}.delivery_method`}
        value={value.deliveryMethod}
        onChange={(v) => set('deliveryMethod', v)}
        helpText="A delivery method name, such as Royal Mail. Empty: any delivery."
      />
    </BlockStack>
  );
}
