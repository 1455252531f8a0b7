// The checkout simulator: a buyer (a stored customer, a typed history, or a guest), a cart,
// codes and an address, run through both checkout targets (POST /api/simulate); for every
// offer, applied or why not, and the operations the platform would receive.

import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  ChoiceList,
  Collapsible,
  InlineGrid,
  InlineStack,
  Layout,
  List,
  Page,
  Spinner,
  Text,
} from '@shopify/polaris';
import {PlusIcon} from '@shopify/polaris-icons';
import {useEffect, useMemo, useState} from 'react';

import {CheckField, CountField, ErrorsContext, Field, ListField, MoneyField, SectionError} from '../components/Fields';
import {ErrorBanner, ProblemList, RemovableItem} from '../components/Feedback';
import {ApiError, api, messageOf} from '../lib/api';
import {reasonText} from '../lib/describe';
import {placeErrors, sentence} from '../lib/fieldErrors';
import {formatMoney} from '../lib/money';
import {emptyLine, newSimForm, simRequest, type LineForm, type SimForm} from '../lib/simulate';
import type {Customer, EngineResult, FieldError, Outcome, SimulateAnswer} from '../lib/types';
import {useShop} from '../shop';

export function SimulatorPage() {
  const shop = useShop();
  const ctx = useMemo(() => ({exponent: shop.exponent, timeZone: shop.timeZone}), [shop.exponent, shop.timeZone]);
  const [form, setForm] = useState<SimForm>(newSimForm);
  const [problems, setProblems] = useState<FieldError[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [answer, setAnswer] = useState<SimulateAnswer | null>(null);
  const [running, setRunning] = useState(false);
  const update = (patch: Partial<SimForm>) => setForm((f) => ({...f, ...patch}));

  const fields = useMemo(() => {
    const out = ['customer', 'history', 'history.orders', 'history.spend', 'lines', 'codes', 'address', 'delivery_options', 'delivery_method'];
    form.lines.forEach((_, i) => out.push(`lines[${i}]`, `lines[${i}].product_id`, `lines[${i}].quantity`, `lines[${i}].unit_price`));
    form.deliveryOptions.forEach((_, i) => out.push(`delivery_options[${i}].cost`));
    return out;
  }, [form.lines, form.deliveryOptions]);
  const placed = useMemo(() => placeErrors(problems, fields), [problems, fields]);

  async function run() {
    setError(null);
    const built = simRequest(form, ctx);
    setProblems(built.problems);
    if (built.problems.length) return;
    setRunning(true);
    try {
      setAnswer(await api.post<SimulateAnswer>('/api/simulate', built.request));
    } catch (e) {
      if (e instanceof ApiError && e.problems.length) setProblems(e.problems);
      else setError(e);
    } finally {
      setRunning(false);
    }
  }

  const setLine = (i: number, patch: Partial<LineForm>) => update({lines: form.lines.map((l, j) => (j === i ? {...l, ...patch} : l))});
  return (
    <Page title="Checkout simulator" subtitle="Run a cart through your offers exactly as a checkout would, and see why each applies or not.">
      <ErrorsContext.Provider value={placed.byField}>
        <Layout>
          <Layout.Section>
            <BlockStack gap="400">
              <BuyerCard form={form} update={update} />
              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Cart
                  </Text>
                  <SectionError path="lines" />
                  {form.lines.map((l, i) => (
                    <RemovableItem key={i} title={`Line ${i + 1}`} canRemove={form.lines.length > 1} onRemove={() => update({lines: form.lines.filter((_, j) => j !== i)})}>
                      <InlineGrid columns={{xs: 1, md: 3}} gap="200">
                        <Field label={`Line ${i + 1}: product id`} path={`lines[${i}].product_id`} value={l.productId} onChange={(v) => setLine(i, {productId: v})} monospaced helpText="gid://shopify/Product/… or the number" />
                        <Field label={`Line ${i + 1}: variant id`} value={l.variantId} onChange={(v) => setLine(i, {variantId: v})} monospaced helpText="Optional." />
                        <Field label={`Line ${i + 1}: title`} value={l.title} onChange={(v) => setLine(i, {title: v})} />
                        <CountField label={`Line ${i + 1}: quantity`} path={`lines[${i}].quantity`} value={l.quantity} onChange={(v) => setLine(i, {quantity: v})} />
                        <MoneyField label={`Line ${i + 1}: unit price`} path={`lines[${i}].unit_price`} value={l.unitPrice} onChange={(v) => setLine(i, {unitPrice: v})} />
                        <Field label={`Line ${i + 1}: collections`} value={l.collections} onChange={(v) => setLine(i, {collections: v})} monospaced helpText="Optional: collection ids." />
                      </InlineGrid>
                      <CheckField label="Gift card" checked={l.giftCard} onChange={(v) => setLine(i, {giftCard: v})} />
                    </RemovableItem>
                  ))}
                  <InlineStack>
                    <Button icon={PlusIcon} onClick={() => update({lines: [...form.lines, emptyLine()]})}>
                      Add line
                    </Button>
                  </InlineStack>
                  <ListField label="Discount codes entered" path="codes" value={form.codes} onChange={(v) => update({codes: v})} lines={1} />
                </BlockStack>
              </Card>
              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Delivery
                  </Text>
                  <SectionError path="address" />
                  <InlineGrid columns={{xs: 1, md: 3}} gap="200">
                    <Field label="Country code" value={form.country} onChange={(v) => update({country: v})} placeholder="GB" />
                    <Field label="City" value={form.city} onChange={(v) => update({city: v})} />
                    <Field label="Postcode" value={form.zip} onChange={(v) => update({zip: v})} />
                  </InlineGrid>
                  <SectionError path="delivery_options" />
                  {form.deliveryOptions.map((d, i) => (
                    <InlineGrid key={i} columns={{xs: 1, md: 2}} gap="200">
                      <Field
                        label={`Delivery option ${i + 1}`}
                        value={d.title}
                        onChange={(v) =>
                          update({deliveryOptions: form.deliveryOptions.map((x, j) => (j === i ? {...x, title: v} : x))})
                        }
                      />
                      <MoneyField
                        label={`Delivery option ${i + 1}: cost`}
                        path={`delivery_options[${i}].cost`}
                        value={d.cost}
                        onChange={(v) =>
                          update({deliveryOptions: form.deliveryOptions.map((x, j) => (j === i ? {...x, cost: v} : x))})
                        }
                      />
                    </InlineGrid>
                  ))}
                  <InlineStack gap="200">
                    <Button onClick={() => update({deliveryOptions: [...form.deliveryOptions, {title: '', cost: ''}]})} disabled={form.deliveryOptions.length >= 10}>
                      Add delivery option
                    </Button>
                  </InlineStack>
                  <Field
                    label="Chosen delivery option"
                    path="delivery_method"
                    value={form.deliveryMethod}
                    onChange={(v) => update({deliveryMethod: v})}
                    helpText="The title of one of the options above."
                  />
                </BlockStack>
              </Card>
              {placed.unplaced.length > 0 && (
                <Banner tone="critical" title="The simulation could not run">
                  <ProblemList problems={placed.unplaced} />
                </Banner>
              )}
              <InlineStack align="end">
                <Button variant="primary" onClick={run} loading={running}>
                  Run simulation
                </Button>
              </InlineStack>
            </BlockStack>
          </Layout.Section>
          <Layout.Section variant="oneThird">
            <BlockStack gap="400">
              {error ? <ErrorBanner error={error} title="The simulation failed" /> : null}
              {running && !answer ? (
                <Card>
                  <InlineStack gap="200" blockAlign="center">
                    <Spinner size="small" accessibilityLabel="Running" />
                    <Text as="p">Running…</Text>
                  </InlineStack>
                </Card>
              ) : null}
              {!answer && !running && (
                <Card>
                  <Text as="p" tone="subdued">
                    Choose a buyer and a cart, then run the simulation: every offer is listed with whether it applied and why.
                  </Text>
                </Card>
              )}
              {answer && <Results answer={answer} />}
            </BlockStack>
          </Layout.Section>
        </Layout>
      </ErrorsContext.Provider>
    </Page>
  );
}

function BuyerCard({form, update}: {form: SimForm; update: (p: Partial<SimForm>) => void}) {
  const shop = useShop();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<Customer[] | null>(null);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<unknown>(null);

  // Search as the merchant types, after a short pause.
  useEffect(() => {
    if (form.mode !== 'stored') return;
    let live = true;
    const t = setTimeout(async () => {
      setSearching(true);
      setSearchError(null);
      try {
        const r = await api.get<{customers: Customer[]}>('/api/customers', {query: {query: query.trim(), limit: 10}});
        if (live) setResults(r.customers ?? []);
      } catch (e) {
        if (live) setSearchError(e);
      } finally {
        if (live) setSearching(false);
      }
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [query, form.mode]);

  const name = (c: Customer) => [c.first_name, c.last_name].filter(Boolean).join(' ') || c.email || c.id;
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Buyer
        </Text>
        <SectionError path="customer" />
        <ChoiceList
          title="Who is buying"
          titleHidden
          choices={[
            {label: 'A customer of the shop, with their purchase history', value: 'stored'},
            {label: 'A buyer with a history I type', value: 'typed'},
            {label: 'A guest (no customer)', value: 'guest'},
          ]}
          selected={[form.mode]}
          onChange={(v) => update({mode: v[0] as SimForm['mode']})}
        />
        {form.mode === 'stored' && (
          <BlockStack gap="200">
            {form.customer ? (
              <Box padding="300" background="bg-surface-secondary" borderRadius="200">
                <InlineStack align="space-between" blockAlign="center">
                  <BlockStack gap="050">
                    <Text as="p" fontWeight="semibold">
                      {name(form.customer)}
                    </Text>
                    <Text as="p" tone="subdued">
                      {form.customer.orders ?? 0} orders · {formatMoney(form.customer.spend ?? 0, shop.currency)} spent
                      {form.customer.tags?.length ? ` · tags ${form.customer.tags.join(', ')}` : ''}
                    </Text>
                  </BlockStack>
                  <Button onClick={() => update({customer: null})}>Change</Button>
                </InlineStack>
              </Box>
            ) : (
              <BlockStack gap="200">
                <Field label="Find a customer" type="search" value={query} onChange={setQuery} placeholder="Email or customer id" />
                {searchError ? <Text as="p" tone="critical">{messageOf(searchError)}</Text> : null}
                {searching && !results ? <Spinner size="small" accessibilityLabel="Searching customers" /> : null}
                {results && results.length === 0 && <Text as="p" tone="subdued">No customer matches.</Text>}
                {results && results.length > 0 && (
                  <ul aria-label="Matching customers" style={{listStyle: 'none', margin: 0, padding: 0}}>
                    {results.map((c) => (
                      <li key={c.id} style={{borderTop: '1px solid var(--p-color-border-secondary)', padding: 'var(--p-space-200) 0'}}>
                        <InlineStack align="space-between" blockAlign="center" wrap={false}>
                          <BlockStack gap="050">
                            <Text as="span" fontWeight="semibold">
                              {name(c)}
                            </Text>
                            <Text as="span" tone="subdued" variant="bodySm">
                              {c.orders ?? 0} orders · {formatMoney(c.spend ?? 0, shop.currency)}
                              {c.tags?.length ? ` · ${c.tags.join(', ')}` : ''}
                            </Text>
                          </BlockStack>
                          <Button size="slim" onClick={() => update({customer: c})} accessibilityLabel={`Choose ${name(c)}`}>
                            Choose
                          </Button>
                        </InlineStack>
                      </li>
                    ))}
                  </ul>
                )}
              </BlockStack>
            )}
            <CheckField
              label="Replace their history with one I type"
              checked={form.overrideHistory}
              onChange={(v) => update({overrideHistory: v})}
            />
          </BlockStack>
        )}
        {form.mode === 'typed' && (
          <InlineGrid columns={{xs: 1, md: 3}} gap="200">
            <Field label="Customer id" value={form.customerId} onChange={(v) => update({customerId: v})} helpText="Optional." monospaced />
            <Field label="Email" value={form.email} onChange={(v) => update({email: v})} helpText="Optional." />
            <Field label="Tags" value={form.tags} onChange={(v) => update({tags: v})} helpText="Separated by commas." />
          </InlineGrid>
        )}
        {(form.mode === 'typed' || (form.mode === 'stored' && form.overrideHistory)) && (
          <BlockStack gap="200">
            <SectionError path="history" />
            <InlineGrid columns={{xs: 1, md: 2}} gap="200">
              <CountField label="Past orders" path="history.orders" value={form.orders} onChange={(v) => update({orders: v})} helpText="One a week, back from yesterday." />
              <MoneyField label="Spent in those orders" path="history.spend" value={form.spend} onChange={(v) => update({spend: v})} />
              <Field label="Codes used before" value={form.usedCodes} onChange={(v) => update({usedCodes: v})} helpText="Separated by commas." />
              <Field label="Products bought before" value={form.boughtProducts} onChange={(v) => update({boughtProducts: v})} helpText="Product ids." monospaced />
            </InlineGrid>
          </BlockStack>
        )}
      </BlockStack>
    </Card>
  );
}

function Results({answer}: {answer: SimulateAnswer}) {
  const [showOps, setShowOps] = useState(false);
  const money = (v: number) => formatMoney(v, answer.currency);
  const cart = answer.cart_lines;
  const delivery = answer.delivery_options;
  const items = (cart.outcomes ?? []).filter((o) => o.applied).reduce((t, o) => t + o.amount, 0);
  const shipping = (delivery.outcomes ?? []).filter((o) => o.applied).reduce((t, o) => t + o.shipping_amount, 0);
  const hints = [...(cart.hints ?? []), ...(delivery.hints ?? [])];
  return (
    <BlockStack gap="400">
      <Card>
        <BlockStack gap="200">
          <Text as="h2" variant="headingMd">
            Result
          </Text>
          <div data-testid="sim-summary">
            <Text as="p">
              Items discount {money(items)} · Shipping discount {money(shipping)}
            </Text>
          </div>
          {hints.length > 0 && (
            <Banner tone="info" title="Shown to the shopper">
              <List>
                {hints.map((h) => (
                  <List.Item key={h.offer_id + h.message}>{h.message}</List.Item>
                ))}
              </List>
            </Banner>
          )}
        </BlockStack>
      </Card>
      <OutcomeCard title="Cart lines (product and order discounts)" result={cart} money={money} shipping={false} />
      <OutcomeCard title="Delivery (shipping discounts)" result={delivery} money={money} shipping />
      <Card>
        <BlockStack gap="200">
          <Button
            variant="plain"
            onClick={() => setShowOps((s) => !s)}
            ariaExpanded={showOps}
            ariaControls="sim-operations"
            disclosure={showOps ? 'up' : 'down'}
          >
            Operations returned to the platform
          </Button>
          <Collapsible id="sim-operations" open={showOps}>
            <BlockStack gap="200">
              <Text as="h3" variant="headingSm">
                Cart lines target
              </Text>
              <pre className="regulars-code">{JSON.stringify({operations: cart.operations ?? []}, null, 2)}</pre>
              <Text as="h3" variant="headingSm">
                Delivery options target
              </Text>
              <pre className="regulars-code">{JSON.stringify({operations: delivery.operations ?? []}, null, 2)}</pre>
            </BlockStack>
          </Collapsible>
        </BlockStack>
      </Card>
    </BlockStack>
  );
}

/** ofTarget keeps the outcomes of offers that discount what the target prices: items, or delivery. */
export function ofTarget(outcomes: Outcome[], shipping: boolean): Outcome[] {
  return outcomes.filter((o) => {
    if (!o.classes || o.classes.length === 0) return true;
    return shipping ? o.classes.includes('SHIPPING') : o.classes.some((c) => c === 'ORDER' || c === 'PRODUCT');
  });
}

function OutcomeCard({title, result, money, shipping}: {title: string; result: EngineResult; money: (v: number) => string; shipping: boolean}) {
  // Applied first, in the engine's order.
  const outcomes = ofTarget(result.outcomes ?? [], shipping).sort((a, b) => Number(b.applied) - Number(a.applied));
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          {title}
        </Text>
        {outcomes.length === 0 ? (
          <Text as="p" tone="subdued">
            No offer discounts this.
          </Text>
        ) : (
          <ul aria-label={title} style={{listStyle: 'none', margin: 0, padding: 0}}>
            {outcomes.map((o) => (
              <li key={o.offer_id} style={{borderTop: '1px solid var(--p-color-border-secondary)', padding: 'var(--p-space-200) 0'}}>
                <BlockStack gap="100">
                  <InlineStack align="space-between" blockAlign="center" gap="200" wrap={false}>
                    <Text as="span" fontWeight="semibold">
                      {o.title}
                    </Text>
                    {o.applied ? (
                      <Text as="span" fontWeight="semibold" numeric>
                        −{money(shipping ? o.shipping_amount : o.amount)}
                      </Text>
                    ) : null}
                  </InlineStack>
                  <InlineStack gap="200" blockAlign="center">
                    <Badge tone={o.applied ? 'success' : undefined}>{o.applied ? 'Applied' : 'Not applied'}</Badge>
                    {o.code ? (
                      <Text as="span" tone="subdued" variant="bodySm">
                        Code {o.code}
                      </Text>
                    ) : null}
                  </InlineStack>
                  {!o.applied && <Text as="p">{reasonText(o.reason)}</Text>}
                  {!o.applied && o.detail ? (
                    <Text as="p" variant="bodySm" tone="subdued">
                      {sentence(o.detail)}
                    </Text>
                  ) : null}
                </BlockStack>
              </li>
            ))}
          </ul>
        )}
      </BlockStack>
    </Card>
  );
}
