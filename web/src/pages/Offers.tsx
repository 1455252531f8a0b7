// The offers list: GET /api/offers with each offer's status and platform sync state, and its
// uses and revenue from GET /api/analytics/offers (last 30 days). Filters by status, kind and
// text; bulk pause, resume and archive (one request per selected offer); duplicate.

import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  IndexTable,
  InlineGrid,
  InlineStack,
  Link,
  Page,
  Text,
  useIndexResourceState,
} from '@shopify/polaris';
import {useEffect, useMemo, useState} from 'react';
import {useNavigate, useSearchParams} from 'react-router';

import {Empty, ErrorBanner, LoadingCard} from '../components/Feedback';
import {Field, SelectField} from '../components/Fields';
import {api, messageOf} from '../lib/api';
import {APPLICATION_LABELS, STATUS_LABELS, SYNC_LABELS, VALUE_KIND_LABELS, statusTone, syncTone} from '../lib/describe';
import {formatMoney} from '../lib/money';
import {toast} from '../lib/toast';
import type {OfferRecord, OfferStat, OfferSummary, Status, ValueKind} from '../lib/types';
import {useLoad} from '../lib/useLoad';
import {useShop} from '../shop';

type Action = 'pause' | 'resume' | 'archive';

const ACTION_WORDS: Record<Action, [string, string]> = {
  pause: ['Pause', 'paused'],
  resume: ['Resume', 'resumed'],
  archive: ['Archive', 'archived'],
};

export interface OfferFilter {
  status: string;
  kind: string;
  query: string;
}

/** filterOffers keeps the offers matching the filter (status is the lifecycle a merchant sees). */
export function filterOffers(offers: OfferSummary[], f: OfferFilter): OfferSummary[] {
  const q = f.query.trim().toLowerCase();
  return offers.filter(
    (o) =>
      (!f.status || o.lifecycle === f.status) &&
      (!f.kind || o.kind === f.kind || o.application === f.kind) &&
      (!q || [o.name, o.title, o.code ?? '', o.id].some((s) => s.toLowerCase().includes(q))),
  );
}

export function OffersPage() {
  const shop = useShop();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const offers = useLoad((signal) => api.get<{offers: OfferSummary[]}>('/api/offers', {signal}).then((r) => r.offers ?? []), []);
  const stats = useLoad(
    (signal) => api.get<{offers: OfferStat[]}>('/api/analytics/offers', {signal}).then((r) => r.offers ?? []),
    [],
  );
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{tone: 'success' | 'warning'; title: string; lines: string[]} | null>(null);
  const filter: OfferFilter = {status: params.get('status') ?? '', kind: params.get('kind') ?? '', query: params.get('q') ?? ''};
  const setFilter = (patch: Partial<OfferFilter>) => {
    const next = {...filter, ...patch};
    const p = new URLSearchParams();
    if (next.status) p.set('status', next.status);
    if (next.kind) p.set('kind', next.kind);
    if (next.query) p.set('q', next.query);
    setParams(p, {replace: true});
  };

  // While an offer's sync is under way, look again every few seconds.
  const pending = offers.data?.some((o) => o.sync_state === 'pending') ?? false;
  useEffect(() => {
    if (!pending) return;
    const t = setTimeout(offers.reload, 2000);
    return () => clearTimeout(t);
  }, [pending, offers.data, offers.reload]);

  const statsById = useMemo(() => new Map((stats.data ?? []).map((s) => [s.offer_id, s])), [stats.data]);
  const visible = useMemo(() => filterOffers(offers.data ?? [], filter), [offers.data, filter.status, filter.kind, filter.query]);
  const {selectedResources, allResourcesSelected, handleSelectionChange, clearSelection} = useIndexResourceState(
    visible as unknown as {[key: string]: unknown}[],
  );

  async function bulk(action: Action) {
    const ids = allResourcesSelected ? visible.map((o) => o.id) : selectedResources;
    const byId = new Map((offers.data ?? []).map((o) => [o.id, o]));
    setBusy(true);
    setOutcome(null);
    const failed: string[] = [];
    let done = 0;
    for (const id of ids) {
      try {
        await api.post(`/api/offers/${encodeURIComponent(id)}/${action}`);
        done++;
      } catch (e) {
        failed.push(`${byId.get(id)?.name ?? id}: ${messageOf(e)}`);
      }
    }
    setBusy(false);
    clearSelection();
    const [, past] = ACTION_WORDS[action];
    setOutcome(
      failed.length
        ? {tone: 'warning', title: `${done} ${past}; ${failed.length} could not be ${past}`, lines: failed}
        : {tone: 'success', title: `${done} ${done === 1 ? 'offer' : 'offers'} ${past}`, lines: []},
    );
    if (done) toast(`${done} ${done === 1 ? 'offer' : 'offers'} ${past}`);
    offers.reload();
  }

  async function duplicate(o: OfferSummary) {
    try {
      const copy = await api.post<OfferRecord>(`/api/offers/${encodeURIComponent(o.id)}/duplicate`);
      toast(`Duplicated as ${copy.offer.name}`);
      navigate(`/offers/${copy.id}`);
    } catch (e) {
      setOutcome({tone: 'warning', title: `${o.name} could not be duplicated`, lines: [messageOf(e)]});
    }
  }

  const created = params.get('created');
  const promoted = (['pause', 'resume', 'archive'] as Action[]).map((a) => ({
    content: ACTION_WORDS[a][0],
    onAction: () => bulk(a),
    disabled: busy,
  }));

  return (
    <Page
      title="Offers"
      subtitle="Coupons and offers for your regular customers"
      primaryAction={{content: 'Create offer', url: '/offers/new'}}
      secondaryActions={[{content: 'Create offer with unique codes', url: '/offers/new?application=codes'}]}
    >
      <BlockStack gap="400">
        {created && offers.data?.some((o) => o.id === created) && (
          <Banner tone="success" title="Offer created" onDismiss={() => setParams({}, {replace: true})}>
            <p>It is being synced to your shop’s discounts; the Sync column shows when it is done.</p>
          </Banner>
        )}
        {outcome && (
          <Banner tone={outcome.tone} title={outcome.title} onDismiss={() => setOutcome(null)}>
            {outcome.lines.length > 0 && (
              <ul>
                {outcome.lines.map((l) => (
                  <li key={l}>{l}</li>
                ))}
              </ul>
            )}
          </Banner>
        )}
        {offers.error ? (
          <ErrorBanner error={offers.error} title="The offers could not be loaded" onRetry={offers.reload} />
        ) : offers.data === undefined ? (
          <LoadingCard label="Loading the offers" />
        ) : offers.data.length === 0 ? (
          <Empty heading="Reward your regular customers" action={{content: 'Create offer', url: '/offers/new'}}>
            Create a coupon for customers who bought before, or an offer for a customer segment.
          </Empty>
        ) : (
          <Card padding="0">
            <BlockStack>
              <div style={{padding: 'var(--p-space-300)'}}>
                <InlineGrid columns={{xs: 1, md: '2fr 1fr 1fr'}} gap="300">
                  <Field
                    label="Search offers"
                    type="search"
                    value={filter.query}
                    onChange={(v) => setFilter({query: v})}
                    placeholder="Name, title or code"
                  />
                  <SelectField
                    label="Status"
                    value={filter.status}
                    onChange={(v) => setFilter({status: v})}
                    options={[{label: 'Any status', value: ''}, ...(Object.keys(STATUS_LABELS) as Status[]).map((s) => ({label: STATUS_LABELS[s], value: s}))]}
                  />
                  <SelectField
                    label="Kind"
                    value={filter.kind}
                    onChange={(v) => setFilter({kind: v})}
                    options={[
                      {label: 'Any kind', value: ''},
                      ...(Object.keys(VALUE_KIND_LABELS) as ValueKind[]).map((k) => ({label: VALUE_KIND_LABELS[k], value: k})),
                      ...(['code', 'codes', 'automatic'] as const).map((k) => ({label: APPLICATION_LABELS[k], value: k})),
                    ]}
                  />
                </InlineGrid>
              </div>
              {stats.error ? (
                <div style={{padding: '0 var(--p-space-300) var(--p-space-300)'}}>
                  <Text as="p" tone="subdued">
                    Uses and revenue are unavailable: {messageOf(stats.error)}
                  </Text>
                </div>
              ) : null}
              <IndexTable
                resourceName={{singular: 'offer', plural: 'offers'}}
                itemCount={visible.length}
                selectedItemsCount={allResourcesSelected ? 'All' : selectedResources.length}
                onSelectionChange={handleSelectionChange}
                promotedBulkActions={promoted}
                loading={offers.loading || busy}
                emptyState={
                  <div style={{padding: 'var(--p-space-400)'}}>
                    <Text as="p" alignment="center">
                      No offers match the filters.{' '}
                      <Link onClick={() => setFilter({status: '', kind: '', query: ''})}>Clear the filters</Link>
                    </Text>
                  </div>
                }
                headings={[
                  {title: 'Offer'},
                  {title: 'Status'},
                  {title: 'Discount'},
                  {title: 'Uses (30 days)', alignment: 'end'},
                  {title: 'Revenue (30 days)', alignment: 'end'},
                  {title: 'Sync'},
                  {title: 'Actions', hidden: true},
                ]}
              >
                {visible.map((o, i) => {
                  const s = statsById.get(o.id);
                  return (
                    <IndexTable.Row id={o.id} key={o.id} position={i} selected={selectedResources.includes(o.id)}>
                      <IndexTable.Cell>
                        <BlockStack gap="050">
                          <Link url={`/offers/${o.id}`} removeUnderline dataPrimaryLink>
                            <Text as="span" fontWeight="semibold">
                              {o.name}
                            </Text>
                          </Link>
                          <Text as="span" tone="subdued" variant="bodySm">
                            {o.code ? `Code ${o.code}` : APPLICATION_LABELS[o.application]}
                          </Text>
                        </BlockStack>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <Badge tone={statusTone(o.lifecycle)}>{STATUS_LABELS[o.lifecycle] ?? o.lifecycle}</Badge>
                      </IndexTable.Cell>
                      <IndexTable.Cell>{VALUE_KIND_LABELS[o.kind] ?? o.kind}</IndexTable.Cell>
                      <IndexTable.Cell>
                        <Text as="span" alignment="end" numeric>
                          {s ? s.uses.toLocaleString() : '—'}
                        </Text>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <Text as="span" alignment="end" numeric>
                          {s ? formatMoney(s.revenue, shop.currency) : '—'}
                        </Text>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <Badge tone={syncTone(o.sync_state)}>{SYNC_LABELS[o.sync_state] ?? o.sync_state}</Badge>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        {/* Buttons in a row must not select the row or open the offer. */}
                        <div onClick={(e) => e.stopPropagation()}>
                        <InlineStack gap="200" wrap={false}>
                          {o.application === 'codes' && (
                            <Button size="slim" url={`/offers/${o.id}/codes`} accessibilityLabel={`Codes of ${o.name}`}>
                              Codes
                            </Button>
                          )}
                          <Button size="slim" onClick={() => duplicate(o)} accessibilityLabel={`Duplicate ${o.name}`}>
                            Duplicate
                          </Button>
                        </InlineStack>
                        </div>
                      </IndexTable.Cell>
                    </IndexTable.Row>
                  );
                })}
              </IndexTable>
            </BlockStack>
          </Card>
        )}
      </BlockStack>
    </Page>
  );
}
