// The offer editor: create (POST /api/offers) and edit (PUT /api/offers/:id with the version it
// was based on, also as If-Match). Sections: Setup, Purchase behaviour, Condition, Eligibility,
// Usage limits, Preview, with a live preview of what the shopper sees. Problems, the form's own
// and the server's 422, are shown at their fields by JSON path.

import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  Divider,
  InlineGrid,
  InlineStack,
  Layout,
  Modal,
  Page,
  Text,
} from '@shopify/polaris';
import {PlusIcon} from '@shopify/polaris-icons';
import {useEffect, useMemo, useRef, useState, type ReactNode} from 'react';
import {useNavigate, useParams, useSearchParams} from 'react-router';

import {BacktestPanel} from '../components/Backtest';
import {
  BehaviourFields,
  CheckField,
  CountField,
  ErrorsContext,
  Field,
  ItemSetFields,
  ListField,
  MoneyField,
  SectionError,
  SelectField,
} from '../components/Fields';
import {ErrorBanner, LoadingCard, ProblemList, RemovableItem} from '../components/Feedback';
import {ApiError, api} from '../lib/api';
import {APPLICATION_LABELS, STATUS_LABELS, describeValue, statusTone} from '../lib/describe';
import {placeErrors} from '../lib/fieldErrors';
import {formatEngineAmount, parseCount, parseMoney} from '../lib/money';
import {offerFields, SECTION_TITLES, sectionOf, type SectionId} from '../lib/offerFields';
import {
  IDENTITY_KINDS,
  emptyTier,
  formToOffer,
  newOfferForm,
  offerToForm,
  segmentOfferForm,
  shopperTitle,
  type OfferForm,
  type TierForm,
} from '../lib/offerForm';
import {unknownPlaceholders, unlockPreview} from '../lib/preview';
import {toast} from '../lib/toast';
import type {FieldError, IdentityKind, OfferRecord, Segment} from '../lib/types';
import {useShop} from '../shop';

type Update = (patch: Partial<OfferForm>) => void;

export function OfferEditorPage() {
  const {id} = useParams();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const shop = useShop();
  const ctx = useMemo(() => ({exponent: shop.exponent, timeZone: shop.timeZone}), [shop.exponent, shop.timeZone]);
  const isNew = !id;

  const [form, setForm] = useState<OfferForm | null>(null);
  const [record, setRecord] = useState<OfferRecord | null>(null);
  const [segments, setSegments] = useState<Segment[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [problems, setProblems] = useState<FieldError[]>([]);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [nonce, setNonce] = useState(0);
  const topRef = useRef<HTMLDivElement>(null);

  // Load the offer (or the segment a new offer is for) once the shop's timezone is known.
  useEffect(() => {
    if (!shop.ready) return;
    let live = true;
    setLoadError(null);
    const segmentsLoad = api
      .get<{segments: Segment[]}>('/api/segments')
      .then((r) => r.segments ?? [])
      .catch(() => null);
    (async () => {
      try {
        const segs = await segmentsLoad;
        if (!live) return;
        setSegments(segs);
        if (id) {
          const rec = await api.get<OfferRecord>(`/api/offers/${encodeURIComponent(id)}`);
          if (!live) return;
          setRecord(rec);
          setForm(offerToForm(rec.offer, ctx));
        } else {
          const segId = params.get('segment');
          const seg = segId ? segs?.find((s) => s.id === segId) : undefined;
          const f = seg ? segmentOfferForm(seg) : newOfferForm();
          if (params.get('application') === 'codes') f.applicationKind = 'codes';
          setForm(f);
        }
      } catch (e) {
        if (live) setLoadError(e);
      }
    })();
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, shop.ready, nonce]);

  const fields = useMemo(() => (form ? offerFields(form) : null), [form]);
  const placed = useMemo(
    () => placeErrors(problems, fields ? Object.values(fields).flat() : []),
    [problems, fields],
  );
  const sectionErrors = useMemo(() => {
    const counts: Partial<Record<SectionId, number>> = {};
    if (!fields) return counts;
    for (const [field, msgs] of Object.entries(placed.byField)) {
      const s = sectionOf(fields, field);
      if (s) counts[s] = (counts[s] ?? 0) + msgs.length;
    }
    return counts;
  }, [placed, fields]);

  if (loadError) {
    return (
      <Page title="Offer" backAction={{content: 'Offers', url: '/offers'}}>
        <ErrorBanner error={loadError} title="The offer could not be loaded" onRetry={() => setNonce((n) => n + 1)} />
      </Page>
    );
  }
  if (!form || !fields) {
    return (
      <Page title={isNew ? 'Create offer' : 'Offer'} backAction={{content: 'Offers', url: '/offers'}}>
        <LoadingCard label="Loading the offer" />
      </Page>
    );
  }

  const update: Update = (patch) => setForm((f) => (f ? {...f, ...patch} : f));

  function buildOffer(): ReturnType<typeof formToOffer> | null {
    if (!form) return null;
    const built = formToOffer(form, ctx);
    if (built.problems.length) {
      setProblems(built.problems);
      topRef.current?.scrollIntoView({behavior: 'smooth', block: 'start'});
      return null;
    }
    return built;
  }

  async function save() {
    setSaveError(null);
    setProblems([]);
    const built = buildOffer();
    if (!built) return;
    setSaving(true);
    try {
      if (isNew) {
        const rec = await api.post<OfferRecord>('/api/offers', built.offer);
        toast(`Created ${rec.offer.name}`);
        navigate(rec.offer.application.kind === 'codes' ? `/offers/${rec.id}/codes?created=1` : `/offers?created=${encodeURIComponent(rec.id)}`);
      } else if (record) {
        const rec = await api.put<OfferRecord>(
          `/api/offers/${encodeURIComponent(record.id)}`,
          {version: record.version, offer: built.offer},
          {ifMatch: record.version},
        );
        setRecord(rec);
        setForm(offerToForm(rec.offer, ctx));
        toast('Offer saved');
      }
    } catch (e) {
      if (e instanceof ApiError && e.problems.length) {
        setProblems(e.problems);
      } else {
        setSaveError(e);
      }
      topRef.current?.scrollIntoView({behavior: 'smooth', block: 'start'});
    } finally {
      setSaving(false);
    }
  }

  async function duplicate() {
    if (!record) return;
    try {
      const copy = await api.post<OfferRecord>(`/api/offers/${encodeURIComponent(record.id)}/duplicate`);
      toast(`Duplicated as ${copy.offer.name}`);
      navigate(`/offers/${copy.id}`);
    } catch (e) {
      setSaveError(e);
    }
  }

  async function remove() {
    if (!record) return;
    try {
      await api.delete(`/api/offers/${encodeURIComponent(record.id)}`);
      toast('Offer deleted');
      navigate('/offers');
    } catch (e) {
      setConfirmDelete(false);
      setSaveError(e);
    }
  }

  const problemCount = Object.values(placed.byField).reduce((n, l) => n + l.length, 0) + placed.unplaced.length;
  const conflict = saveError instanceof ApiError && saveError.status === 409;
  const secondary = [];
  if (record) {
    secondary.push({content: 'Duplicate', onAction: duplicate});
    if (record.offer.application.kind === 'codes') secondary.push({content: 'Codes', url: `/offers/${record.id}/codes`});
    secondary.push({content: 'Delete', destructive: true, onAction: () => setConfirmDelete(true)});
  }

  return (
    <Page
      title={isNew ? 'Create offer' : record?.offer.name || 'Offer'}
      titleMetadata={record ? <Badge tone={statusTone(record.lifecycle)}>{STATUS_LABELS[record.lifecycle]}</Badge> : undefined}
      backAction={{content: 'Offers', url: '/offers'}}
      primaryAction={{content: isNew ? 'Create offer' : 'Save', onAction: save, loading: saving}}
      secondaryActions={secondary}
    >
      <ErrorsContext.Provider value={placed.byField}>
        <div ref={topRef} />
        <Layout>
          {(problemCount > 0 || !!saveError) && (
            <Layout.Section>
              {problemCount > 0 && (
                <Banner tone="critical" title={`${problemCount} ${problemCount === 1 ? 'field needs' : 'fields need'} attention`}>
                  <BlockStack gap="200">
                    <p>
                      {(Object.keys(sectionErrors) as SectionId[]).map((s) => `${SECTION_TITLES[s]} (${sectionErrors[s]})`).join(', ') ||
                        'See below.'}
                    </p>
                    <ProblemList problems={placed.unplaced} />
                  </BlockStack>
                </Banner>
              )}
              {saveError ? (
                conflict ? (
                  <Banner
                    tone="warning"
                    title="Someone changed this offer meanwhile"
                    action={{content: 'Reload the offer', onAction: () => {
                      setSaveError(null);
                      setNonce((n) => n + 1);
                    }}}
                  >
                    <p>{(saveError as ApiError).message}. Reloading discards your changes.</p>
                  </Banner>
                ) : (
                  <ErrorBanner error={saveError} title="The offer was not saved" />
                )
              ) : null}
            </Layout.Section>
          )}
          <Layout.Section>
            <BlockStack gap="400">
              <SetupSection form={form} update={update} errors={sectionErrors.setup} />
              <BehaviourSection form={form} update={update} errors={sectionErrors.behaviour} />
              <ConditionSection form={form} update={update} errors={sectionErrors.condition} />
              <EligibilitySection form={form} update={update} segments={segments} errors={sectionErrors.eligibility} />
              <LimitsSection form={form} update={update} errors={sectionErrors.limits} />
              <PreviewSection form={form} update={update} errors={sectionErrors.preview} />
            </BlockStack>
          </Layout.Section>
          <Layout.Section variant="oneThird">
            <div style={{position: 'sticky', top: 'var(--p-space-400)'}}>
              <BlockStack gap="400">
                <ShopperPreview form={form} />
                <Card>
                  <BlockStack gap="300">
                    <Text as="h2" variant="headingMd">
                      Backtest
                    </Text>
                    <Text as="p" tone="subdued">
                      Run this draft over past orders: how many would have qualified, and what it would have cost. Nothing is saved.
                    </Text>
                    <BacktestPanel
                      getOffer={() => buildOffer()?.offer ?? null}
                      onProblems={(p) => {
                        setProblems(p);
                        topRef.current?.scrollIntoView({behavior: 'smooth', block: 'start'});
                      }}
                    />
                  </BlockStack>
                </Card>
              </BlockStack>
            </div>
          </Layout.Section>
          <Layout.Section>
            <InlineStack align="end" gap="200">
              <Button url="/offers">Cancel</Button>
              <Button variant="primary" onClick={save} loading={saving}>
                {isNew ? 'Create offer' : 'Save'}
              </Button>
            </InlineStack>
          </Layout.Section>
        </Layout>
      </ErrorsContext.Provider>
      <Modal
        open={confirmDelete}
        onClose={() => setConfirmDelete(false)}
        title={`Delete ${record?.offer.name ?? 'this offer'}?`}
        primaryAction={{content: 'Delete', destructive: true, onAction: remove}}
        secondaryActions={[{content: 'Cancel', onAction: () => setConfirmDelete(false)}]}
      >
        <Modal.Section>
          <Text as="p">
            The offer stops applying and its platform discount is removed. Its history (uses, analytics) is kept.
          </Text>
        </Modal.Section>
      </Modal>
    </Page>
  );
}

function Section({title, errors, children, description}: {title: string; errors?: number; description?: string; children: ReactNode}) {
  return (
    <Card>
      <BlockStack gap="400">
        <BlockStack gap="100">
          <InlineStack gap="200" blockAlign="center">
            <Text as="h2" variant="headingMd">
              {title}
            </Text>
            {errors ? <Badge tone="critical">{`${errors} ${errors === 1 ? 'problem' : 'problems'}`}</Badge> : null}
          </InlineStack>
          {description && (
            <Text as="p" tone="subdued">
              {description}
            </Text>
          )}
        </BlockStack>
        {children}
      </BlockStack>
    </Card>
  );
}

const STATUS_OPTIONS = [
  {label: 'Active', value: 'active' as const},
  {label: 'Draft', value: 'draft' as const},
  {label: 'Paused', value: 'paused' as const},
  {label: 'Archived', value: 'archived' as const},
];

const APPLICATION_OPTIONS = [
  {label: 'A shared code (one code for everyone)', value: 'code' as const},
  {label: 'Unique codes (generated or imported)', value: 'codes' as const},
  {label: 'Automatic (no code)', value: 'automatic' as const},
];

const VALUE_OPTIONS = [
  {label: 'Percentage off', value: 'percentage' as const},
  {label: 'Fixed amount off', value: 'fixed_amount' as const},
  {label: 'Free shipping', value: 'free_shipping' as const},
  {label: 'Buy X get Y', value: 'buy_x_get_y' as const},
  {label: 'Tiers by cart value or quantity', value: 'tiered' as const},
];

function SetupSection({form, update, errors}: {form: OfferForm; update: Update; errors?: number}) {
  const k = form.valueKind;
  return (
    <Section title="Setup" errors={errors}>
      <SectionError path="application" />
      <SectionError path="value" />
      <InlineGrid columns={{xs: 1, md: 2}} gap="300">
        <Field label="Name" path="name" value={form.name} onChange={(v) => update({name: v})} helpText="For you; shoppers see the preview title." />
        <SelectField label="Status" path="status" value={form.status} options={STATUS_OPTIONS} onChange={(v) => update({status: v})} />
      </InlineGrid>
      <InlineGrid columns={{xs: 1, md: 2}} gap="300">
        <SelectField
          label="How shoppers get it"
          path="application.kind"
          value={form.applicationKind}
          options={APPLICATION_OPTIONS}
          onChange={(v) => update({applicationKind: v})}
        />
        {form.applicationKind === 'code' ? (
          <Field
            label="Code"
            path="application.code"
            value={form.code}
            onChange={(v) => update({code: v})}
            helpText="Up to 30 letters and digits; case does not matter."
            monospaced
          />
        ) : form.applicationKind === 'codes' ? (
          <Text as="p" tone="subdued">
            Generate or import the codes after saving, on the offer’s Codes page.
          </Text>
        ) : (
          <Text as="p" tone="subdued">
            Applies by itself at checkout when the conditions hold.
          </Text>
        )}
      </InlineGrid>
      <Field
        label="Campaign"
        path="campaign"
        value={form.campaign}
        onChange={(v) => update({campaign: v})}
        helpText="Optional: offers of one campaign are reported together in Analytics."
      />
      <Divider />
      <SelectField label="Discount" path="value.kind" value={k} options={VALUE_OPTIONS} onChange={(v) => update({valueKind: v})} />
      {(k === 'percentage' || k === 'buy_x_get_y') && (
        <Field
          label={k === 'buy_x_get_y' ? 'Percentage off the Y items' : 'Percentage off'}
          path="value.percentage"
          value={form.percentage}
          onChange={(v) => update({percentage: v})}
          suffix="%"
          inputMode="decimal"
          helpText={k === 'buy_x_get_y' ? '100 makes them free.' : undefined}
        />
      )}
      {k === 'fixed_amount' && (
        <MoneyField
          label="Amount off"
          path="value.amount"
          value={form.amount}
          onChange={(v) => update({amount: v})}
          helpText="Taken off the cheapest target items first."
        />
      )}
      {k === 'buy_x_get_y' && <BuyXGetYFields form={form} update={update} />}
      {k === 'tiered' && <TierFields form={form} update={update} />}
      {(k === 'free_shipping' || (k === 'tiered' && form.tiers.some((t) => t.kind === 'free_shipping' || t.freeShipping))) && (
        <MoneyField
          label="Free shipping only on rates up to"
          path="value.shipping_rate_ceiling"
          value={form.shippingRateCeiling}
          onChange={(v) => update({shippingRateCeiling: v})}
          helpText="Empty: any delivery rate is made free."
        />
      )}
      {k !== 'free_shipping' && (
        <InlineGrid columns={{xs: 1, md: 2}} gap="300">
          <MoneyField
            label="Maximum discount"
            path="value.cap"
            value={form.cap}
            onChange={(v) => update({cap: v})}
            helpText="Empty: no maximum."
          />
          {(k === 'percentage' || k === 'fixed_amount') && (
            <CountField
              label="Discount at most … items"
              path="value.max_target_quantity"
              value={form.maxTargetQuantity}
              onChange={(v) => update({maxTargetQuantity: v})}
              helpText="The cheapest ones. Empty: all target items."
            />
          )}
        </InlineGrid>
      )}
      {(k === 'percentage' || k === 'fixed_amount' || k === 'tiered') && (
        <BlockStack gap="300">
          <CheckField
            label="Discount other items than the ones that qualify"
            path="value.targets"
            checked={form.customTargets}
            onChange={(v) => update({customTargets: v})}
            helpText="By default the discount is taken off the qualifying items (see Condition)."
          />
          {form.customTargets && (
            <ItemSetFields path="value.targets" legend="Items discounted" value={form.targets} onChange={(v) => update({targets: v})} />
          )}
        </BlockStack>
      )}
    </Section>
  );
}

function BuyXGetYFields({form, update}: {form: OfferForm; update: Update}) {
  return (
    <BlockStack gap="300">
      <SectionError path="value.buy_x_get_y" />
      <InlineGrid columns={{xs: 1, md: 2}} gap="400">
        <BlockStack gap="300">
          <CountField label="Customer buys (quantity)" path="value.buy_x_get_y.buy_quantity" value={form.buyQuantity} onChange={(v) => update({buyQuantity: v})} />
          <ItemSetFields path="value.buy_x_get_y.buy" legend="Of these items" value={form.buy} onChange={(v) => update({buy: v})} />
        </BlockStack>
        <BlockStack gap="300">
          <CountField label="Customer gets (quantity)" path="value.buy_x_get_y.get_quantity" value={form.getQuantity} onChange={(v) => update({getQuantity: v})} />
          <ItemSetFields path="value.buy_x_get_y.get" legend="Of these items (cheapest first)" value={form.get} onChange={(v) => update({get: v})} />
        </BlockStack>
      </InlineGrid>
    </BlockStack>
  );
}

const TIER_KINDS = [
  {label: 'Percentage off', value: 'percentage' as const},
  {label: 'Fixed amount off', value: 'fixed_amount' as const},
  {label: 'Free shipping only', value: 'free_shipping' as const},
];

function TierFields({form, update}: {form: OfferForm; update: Update}) {
  const byQuantity = form.tierBasis === 'quantity';
  const setTier = (i: number, patch: Partial<TierForm>) =>
    update({tiers: form.tiers.map((t, j) => (j === i ? {...t, ...patch} : t))});
  return (
    <BlockStack gap="300">
      <SelectField
        label="Tiers by"
        path="value.tier_basis"
        value={form.tierBasis}
        options={[
          {label: 'Cart value (subtotal of the qualifying items)', value: 'subtotal'},
          {label: 'Quantity of qualifying items', value: 'quantity'},
        ]}
        onChange={(v) => update({tierBasis: v})}
      />
      <SectionError path="value.tiers" />
      {form.tiers.map((t, i) => (
        <RemovableItem key={i} title={`Tier ${i + 1}`} canRemove={form.tiers.length > 1} onRemove={() => update({tiers: form.tiers.filter((_, j) => j !== i)})}>
          <SectionError path={`value.tiers[${i}]`} />
          <InlineGrid columns={{xs: 1, md: 3}} gap="300">
            {byQuantity ? (
              <CountField label={`Tier ${i + 1}: from (items)`} path={`value.tiers[${i}].threshold`} value={t.threshold} onChange={(v) => setTier(i, {threshold: v})} />
            ) : (
              <MoneyField label={`Tier ${i + 1}: from (cart value)`} path={`value.tiers[${i}].threshold`} value={t.threshold} onChange={(v) => setTier(i, {threshold: v})} />
            )}
            <SelectField label={`Tier ${i + 1}: discount`} path={`value.tiers[${i}].kind`} value={t.kind} options={TIER_KINDS} onChange={(v) => setTier(i, {kind: v})} />
            {t.kind === 'percentage' && (
              <Field
                label={`Tier ${i + 1}: percentage`}
                path={`value.tiers[${i}].percentage`}
                value={t.percentage}
                onChange={(v) => setTier(i, {percentage: v})}
                suffix="%"
                inputMode="decimal"
              />
            )}
            {t.kind === 'fixed_amount' && (
              <MoneyField label={`Tier ${i + 1}: amount`} path={`value.tiers[${i}].amount`} value={t.amount} onChange={(v) => setTier(i, {amount: v})} />
            )}
          </InlineGrid>
          {t.kind !== 'free_shipping' && (
            <CheckField label={`Tier ${i + 1}: free shipping too`} checked={t.freeShipping} onChange={(v) => setTier(i, {freeShipping: v})} />
          )}
        </RemovableItem>
      ))}
      <InlineStack>
        <Button icon={PlusIcon} onClick={() => update({tiers: [...form.tiers, emptyTier()]})} disabled={form.tiers.length >= 20}>
          Add tier
        </Button>
      </InlineStack>
    </BlockStack>
  );
}

function BehaviourSection({form, update, errors}: {form: OfferForm; update: Update; errors?: number}) {
  return (
    <Section title="Purchase behaviour" errors={errors} description="What the customer must have bought before: the heart of a coupon for regulars.">
      <CheckField
        label="Only for customers with a purchase history"
        checked={form.behaviourEnabled}
        onChange={(v) => update({behaviourEnabled: v})}
      />
      <SectionError path="behaviour" />
      {form.behaviourEnabled && <BehaviourFields path="behaviour" value={form.behaviour} onChange={(v) => update({behaviour: v})} />}
    </Section>
  );
}

function ConditionSection({form, update, errors}: {form: OfferForm; update: Update; errors?: number}) {
  return (
    <Section title="Condition" errors={errors} description="What the cart must hold. Subtotal and quantity count the qualifying items.">
      <SectionError path="condition" />
      <ItemSetFields path="condition.qualifying" legend="Qualifying items" value={form.qualifying} onChange={(v) => update({qualifying: v})} />
      <InlineGrid columns={{xs: 1, md: 2}} gap="300">
        <MoneyField label="Minimum subtotal" path="condition.min_subtotal" value={form.minSubtotal} onChange={(v) => update({minSubtotal: v})} helpText="Empty: none." />
        <MoneyField label="Maximum subtotal" path="condition.max_subtotal" value={form.maxSubtotal} onChange={(v) => update({maxSubtotal: v})} helpText="Empty: none." />
        <CountField label="Minimum quantity" path="condition.min_quantity" value={form.minQuantity} onChange={(v) => update({minQuantity: v})} helpText="Empty: none." />
        <CountField label="Maximum quantity" path="condition.max_quantity" value={form.maxQuantity} onChange={(v) => update({maxQuantity: v})} helpText="Empty: none." />
      </InlineGrid>
    </Section>
  );
}

const AUDIENCES = [
  {label: 'All customers', value: 'all' as const},
  {label: 'Specific customers', value: 'customers' as const},
  {label: 'Customers with tags', value: 'tags' as const},
  {label: 'A customer segment', value: 'segment' as const},
];

function EligibilitySection({
  form,
  update,
  segments,
  errors,
}: {
  form: OfferForm;
  update: Update;
  segments: Segment[] | null;
  errors?: number;
}) {
  const segmentOptions = [
    {label: 'Choose a segment', value: ''},
    ...(segments ?? []).map((s) => ({label: `${s.name} (priority ${s.priority})`, value: s.id})),
  ];
  if (form.segmentId && !segments?.some((s) => s.id === form.segmentId)) {
    segmentOptions.push({label: form.segmentId, value: form.segmentId});
  }
  return (
    <Section title="Eligibility" errors={errors} description="Who may use the offer, and which of their orders.">
      <SectionError path="eligibility" />
      <SelectField label="Customers" path="eligibility.audience" value={form.audience} options={AUDIENCES} onChange={(v) => update({audience: v})} />
      {form.audience === 'customers' && (
        <ListField
          label="Customer ids"
          path="eligibility.customer_ids"
          value={form.customerIds}
          onChange={(v) => update({customerIds: v})}
          helpText="gid://shopify/Customer/… or just the number, one per line."
          monospaced
        />
      )}
      {form.audience === 'tags' && (
        <ListField label="Customer tags (any of)" path="eligibility.customer_tags" value={form.customerTags} onChange={(v) => update({customerTags: v})} />
      )}
      {form.audience === 'segment' && (
        <BlockStack gap="200">
          <SelectField
            label="Segment"
            path="eligibility.segment_id"
            value={form.segmentId}
            options={segmentOptions}
            onChange={(v) => update({segmentId: v})}
            helpText="A customer in several segments gets only the highest one’s offers."
          />
          {segments !== null && segments.length === 0 && (
            <Text as="p" tone="subdued">
              No segments yet: create one on the Segments page.
            </Text>
          )}
        </BlockStack>
      )}
      <CheckField
        label="First order only"
        path="eligibility.first_order_only"
        checked={form.firstOrderOnly}
        onChange={(v) => update({firstOrderOnly: v})}
        helpText="The customer has no counted order yet."
      />
      <SectionError path="eligibility.order_number" />
      <InlineGrid columns={{xs: 1, md: 2}} gap="300">
        <CountField
          label="Order number from"
          path="eligibility.order_number.min"
          value={form.orderNumberMin}
          onChange={(v) => update({orderNumberMin: v})}
          helpText="3 means from the customer’s third order. Empty: any."
        />
        <CountField
          label="Order number up to"
          path="eligibility.order_number.max"
          value={form.orderNumberMax}
          onChange={(v) => update({orderNumberMax: v})}
          helpText="Empty: any."
        />
      </InlineGrid>
    </Section>
  );
}

const IDENTITY_LABELS: Record<IdentityKind, string> = {
  customer: 'Customer account',
  email: 'Email (normalized)',
  phone: 'Phone number',
  address: 'Delivery address',
  ip: 'Browser IP address',
};

function LimitsSection({form, update, errors}: {form: OfferForm; update: Update; errors?: number}) {
  const shop = useShop();
  const perCustomer = parseCount(form.usesPerCustomer);
  const hasPerCustomer = perCustomer.ok && !!perCustomer.value;
  const toggleKey = (k: IdentityKind, on: boolean) =>
    update({identityKeys: on ? IDENTITY_KINDS.filter((x) => x === k || form.identityKeys.includes(x)) : form.identityKeys.filter((x) => x !== k)});
  return (
    <Section title="Usage limits" errors={errors} description="How often it may be used, when, and with what else.">
      <SectionError path="limits" />
      <InlineGrid columns={{xs: 1, md: 3}} gap="300">
        <CountField label="Total uses" path="limits.total_uses" value={form.totalUses} onChange={(v) => update({totalUses: v})} helpText="Empty: unlimited." />
        <CountField label="Uses per customer" path="limits.uses_per_customer" value={form.usesPerCustomer} onChange={(v) => update({usesPerCustomer: v})} helpText="Empty: unlimited." />
        <CountField label="Uses per day" path="limits.uses_per_day" value={form.usesPerDay} onChange={(v) => update({usesPerDay: v})} helpText="In the shop’s timezone. Empty: unlimited." />
      </InlineGrid>
      {hasPerCustomer && (
        <fieldset style={{border: 0, padding: 0, margin: 0}}>
          <BlockStack gap="100">
            <legend>
              <Text as="span" variant="headingSm">
                The same customer is recognised by
              </Text>
            </legend>
            <SectionError path="limits.identity_keys" />
            <InlineGrid columns={{xs: 1, md: 3}} gap="100">
              {IDENTITY_KINDS.map((k) => (
                <CheckField key={k} label={IDENTITY_LABELS[k]} checked={form.identityKeys.includes(k)} onChange={(v) => toggleKey(k, v)} />
              ))}
            </InlineGrid>
            <Text as="p" tone="subdued">
              Customer account and email always count; add phone, address or IP to stop repeat use across accounts.
            </Text>
          </BlockStack>
        </fieldset>
      )}
      <CheckField
        label="Disable cash on delivery when the offer is used"
        path="limits.disable_cash_on_delivery"
        checked={form.disableCashOnDelivery}
        onChange={(v) => update({disableCashOnDelivery: v})}
      />
      <Divider />
      <Text as="h3" variant="headingSm">
        Active dates ({shop.timeZone})
      </Text>
      <SectionError path="schedule" />
      <InlineGrid columns={{xs: 1, md: 2}} gap="300">
        <Field label="Starts" type="datetime-local" path="schedule.starts_at" value={form.startsAt} onChange={(v) => update({startsAt: v})} helpText="Empty: at once." />
        <Field label="Ends" type="datetime-local" path="schedule.ends_at" value={form.endsAt} onChange={(v) => update({endsAt: v})} helpText="Empty: no end." />
      </InlineGrid>
      <Divider />
      <Text as="h3" variant="headingSm">
        Combining
      </Text>
      <SectionError path="stacking" />
      <InlineGrid columns={{xs: 1, md: 2}} gap="300">
        <Field
          label="Priority"
          path="stacking.priority"
          value={form.priority}
          onChange={(v) => update({priority: v})}
          inputMode="numeric"
          helpText="−1000 to 1000; higher applies first among our offers."
        />
        <CheckField
          label="Exclusive: when it applies, none of our other offers do"
          path="stacking.exclusive"
          checked={form.exclusive}
          onChange={(v) => update({exclusive: v})}
        />
      </InlineGrid>
      <fieldset style={{border: 0, padding: 0, margin: 0}}>
        <BlockStack gap="100">
          <legend>
            <Text as="span">Combines with other discounts of the class</Text>
          </legend>
          <SectionError path="stacking.combines_with" />
          <InlineGrid columns={{xs: 1, md: 3}} gap="100">
            <CheckField label="Order discounts" checked={form.combinesWithOrder} onChange={(v) => update({combinesWithOrder: v})} />
            <CheckField label="Product discounts" checked={form.combinesWithProduct} onChange={(v) => update({combinesWithProduct: v})} />
            <CheckField label="Shipping discounts" checked={form.combinesWithShipping} onChange={(v) => update({combinesWithShipping: v})} />
          </InlineGrid>
        </BlockStack>
      </fieldset>
      {form.applicationKind === 'automatic' ? (
        <CheckField
          label="Combines with codes"
          path="stacking.combines_with_codes"
          checked={form.combinesWithCodes}
          onChange={(v) => update({combinesWithCodes: v})}
          helpText="Off: when a shopper enters a code of ours, this automatic offer steps aside."
        />
      ) : (
        <CheckField
          label="Combines with automatic offers"
          path="stacking.combines_with_automatic"
          checked={form.combinesWithAutomatic}
          onChange={(v) => update({combinesWithAutomatic: v})}
        />
      )}
    </Section>
  );
}

function PreviewSection({form, update, errors}: {form: OfferForm; update: Update; errors?: number}) {
  const unknown = unknownPlaceholders(form.unlockMessage);
  return (
    <Section title="Preview" errors={errors} description="What the shopper sees at checkout and in the storefront.">
      <SectionError path="preview" />
      <Field
        label="Title shown to shoppers"
        path="preview.title"
        value={form.previewTitle}
        onChange={(v) => update({previewTitle: v})}
        helpText="Empty: the offer’s name."
      />
      <Field label="Description" path="preview.description" value={form.previewDescription} onChange={(v) => update({previewDescription: v})} multiline={3} />
      <CheckField
        label="Visible to shoppers"
        path="preview.visible"
        checked={form.previewVisible}
        onChange={(v) => update({previewVisible: v})}
        helpText="Listed to logged-in customers who qualify or are close, with the unlock message."
      />
      <Field
        label="Unlock message"
        path="preview.unlock_message"
        value={form.unlockMessage}
        onChange={(v) => update({unlockMessage: v})}
        helpText="Shown when the cart is close to a threshold. {amount} is what is missing, {title} the title. Empty: the default wording."
        error={unknown.length ? `Unknown placeholder ${unknown.join(', ')}: only {amount} and {title} are replaced.` : undefined}
      />
    </Section>
  );
}

/** threshold is what the unlock message counts towards: the first tier, or the minimum subtotal or quantity. */
function thresholdOf(form: OfferForm, exponent: number): {value: number; byQuantity: boolean} | null {
  if (form.valueKind === 'tiered' && form.tiers.length > 0) {
    const t = form.tiers[0].threshold;
    if (form.tierBasis === 'quantity') {
      const n = parseCount(t);
      return n.ok && n.value ? {value: n.value, byQuantity: true} : null;
    }
    const m = parseMoney(t, exponent);
    return m.ok && m.value ? {value: m.value, byQuantity: false} : null;
  }
  const m = parseMoney(form.minSubtotal, exponent);
  if (m.ok && m.value) return {value: m.value, byQuantity: false};
  const q = parseCount(form.minQuantity);
  if (q.ok && q.value) return {value: q.value, byQuantity: true};
  return null;
}

function ShopperPreview({form}: {form: OfferForm}) {
  const shop = useShop();
  const [cart, setCart] = useState('');
  const title = shopperTitle(form) || 'Your offer';
  const threshold = thresholdOf(form, shop.exponent);
  const cartValue = threshold
    ? threshold.byQuantity
      ? parseCount(cart)
      : parseMoney(cart, shop.exponent)
    : null;
  const defaultMissing = threshold ? (threshold.byQuantity ? 1 : Math.max(1, Math.round(threshold.value / 10))) : 500;
  let missing = defaultMissing;
  if (threshold && cartValue && cartValue.ok && cartValue.value !== null) missing = threshold.value - cartValue.value;
  const message =
    missing > 0
      ? unlockPreview({template: form.unlockMessage, title, missing, byQuantity: !!threshold?.byQuantity, currency: shop.currency})
      : null;
  const how =
    form.applicationKind === 'code'
      ? form.code
        ? `Code ${form.code.trim().toUpperCase()}`
        : 'Code (not set yet)'
      : form.applicationKind === 'codes'
        ? 'A unique code'
        : 'Applied automatically';
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            What the shopper sees
          </Text>
          <Badge tone={form.previewVisible ? 'success' : undefined}>{form.previewVisible ? 'Visible' : 'Hidden'}</Badge>
        </InlineStack>
        <div className="regulars-preview-checkout" aria-live="polite" data-testid="shopper-preview">
          <BlockStack gap="200">
            <Text as="p" variant="headingSm">
              {title}
            </Text>
            {form.previewDescription.trim() && <Text as="p">{form.previewDescription}</Text>}
            <Text as="p" tone="subdued">
              {describeValue(form, shop.currency, shop.exponent)} · {how}
            </Text>
            {message && (
              <Banner tone="info">
                <p data-testid="unlock-message">{message}</p>
              </Banner>
            )}
            {missing <= 0 && <Text as="p" tone="success">The cart reaches the threshold: the offer applies.</Text>}
          </BlockStack>
        </div>
        {threshold ? (
          threshold.byQuantity ? (
            <CountField label="Preview with a cart of (items)" value={cart} onChange={setCart} placeholder={String(Math.max(0, threshold.value - 1))} />
          ) : (
            <MoneyField
              label="Preview with a cart of"
              value={cart}
              onChange={setCart}
              helpText={`Threshold ${formatEngineAmount(threshold.value, shop.currency)}.`}
            />
          )
        ) : (
          <Text as="p" tone="subdued">
            The offer has no cart threshold, so shoppers see no unlock message; the example shows its wording.
          </Text>
        )}
        <Text as="p" tone="subdued">
          {APPLICATION_LABELS[form.applicationKind]} · {STATUS_LABELS[form.status]}
        </Text>
      </BlockStack>
    </Card>
  );
}
