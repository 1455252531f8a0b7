// Analytics (app/analytics.go): per offer figures over a window of days in the shop's timezone,
// compared in charts and a table; each offer's daily series; campaigns; CSV export; and the
// backtest of a draft offer (app/backtest.go).

import {BlockStack, Button, Card, DataTable, InlineGrid, InlineStack, Layout, Page, Text} from '@shopify/polaris';
import {useMemo, useState, type ReactNode} from 'react';

import {BacktestPanel} from '../components/Backtest';
import {BarChart, LineChart, color} from '../components/Charts';
import {Field, SelectField} from '../components/Fields';
import {Empty, ErrorBanner, LoadingCard} from '../components/Feedback';
import {api, messageOf, saveBlob} from '../lib/api';
import {formatMoney} from '../lib/money';
import type {CampaignStat, DayStat, OfferRecord, OfferStat, OfferSummary} from '../lib/types';
import {useLoad, type Load} from '../lib/useLoad';
import {useShop} from '../shop';

interface DateWindow {
  from: string;
  to: string;
}

type Answer<K extends string, T> = {from: string; to: string; timezone: string} & Record<K, T[]>;

export function AnalyticsPage() {
  const shop = useShop();
  const [range, setRange] = useState<DateWindow>({from: '', to: ''});
  const [draft, setDraft] = useState<DateWindow>({from: '', to: ''});
  const query = {from: range.from || undefined, to: range.to || undefined};
  const offers = useLoad(
    (signal) => api.get<Answer<'offers', OfferStat>>('/api/analytics/offers', {signal, query}),
    [range.from, range.to],
  );
  const campaigns = useLoad(
    (signal) => api.get<Answer<'campaigns', CampaignStat>>('/api/analytics/campaigns', {signal, query}),
    [range.from, range.to],
  );
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<unknown>(null);
  const money = (v: number) => formatMoney(v, shop.currency);

  async function exportCSV() {
    setExporting(true);
    setExportError(null);
    try {
      const {blob, filename} = await api.blob('/api/analytics/offers.csv', {query});
      saveBlob(blob, filename ?? 'offers.csv');
    } catch (e) {
      setExportError(e);
    } finally {
      setExporting(false);
    }
  }

  const stats = offers.data?.offers ?? [];
  const labels = stats.map((s) => s.name || s.offer_id);
  const any = stats.some((s) => s.uses > 0 || s.orders_without > 0);
  return (
    <Page
      title="Analytics"
      subtitle={offers.data ? `${offers.data.from} to ${offers.data.to} (${offers.data.timezone})` : undefined}
      primaryAction={{content: 'Export CSV', onAction: exportCSV, loading: exporting, disabled: !offers.data}}
    >
      <Layout>
        <Layout.Section>
          <Card>
            <form
              onSubmit={(e) => {
                e.preventDefault();
                setRange(draft);
                // The same window again: fetch the figures afresh.
                offers.reload();
                campaigns.reload();
              }}
            >
              <InlineStack gap="300" blockAlign="end">
                <Field label="From" type="date" value={draft.from} onChange={(v) => setDraft({...draft, from: v})} helpText="Empty: 30 days before To." />
                <Field label="To" type="date" value={draft.to} onChange={(v) => setDraft({...draft, to: v})} helpText="Empty: today." />
                <Button submit>Show</Button>
              </InlineStack>
            </form>
          </Card>
        </Layout.Section>
        {exportError ? (
          <Layout.Section>
            <ErrorBanner error={exportError} title="The export failed" />
          </Layout.Section>
        ) : null}
        <Layout.Section>
          {offers.error ? (
            <ErrorBanner error={offers.error} title="The figures could not be loaded" onRetry={offers.reload} />
          ) : !offers.data ? (
            <LoadingCard label="Loading the figures" />
          ) : stats.length === 0 ? (
            <Empty heading="No offers to report on" action={{content: 'Create offer', url: '/offers/new'}}>
              Once your offers are used, their figures show here.
            </Empty>
          ) : (
            <BlockStack gap="400">
              {!any && (
                <Card>
                  <Text as="p" tone="subdued">
                    No orders in this period yet: the charts fill in as orders come in.
                  </Text>
                </Card>
              )}
              <InlineGrid columns={{xs: 1, lg: 2}} gap="400">
                <ChartCard title="Redemptions" empty={!stats.some((s) => s.uses > 0)}>
                  <BarChart title="Redemptions per offer" labels={labels} series={[{name: 'Uses', color: color(0), values: stats.map((s) => s.uses)}]} />
                </ChartCard>
                <ChartCard title="Discount given and revenue" empty={!stats.some((s) => s.discount > 0 || s.revenue > 0)}>
                  <BarChart
                    title="Discount given and revenue per offer"
                    labels={labels}
                    format={money}
                    series={[
                      {name: 'Discount given', color: color(4), values: stats.map((s) => s.discount)},
                      {name: 'Revenue', color: color(1), values: stats.map((s) => s.revenue)},
                    ]}
                  />
                </ChartCard>
                <ChartCard title="Average order value, with and without the offer" empty={!stats.some((s) => s.aov_with > 0 || s.aov_without > 0)}>
                  <BarChart
                    title="Average order value with and without each offer"
                    labels={labels}
                    format={money}
                    series={[
                      {name: 'With the offer', color: color(0), values: stats.map((s) => s.aov_with)},
                      {name: 'Without', color: color(2), values: stats.map((s) => s.aov_without)},
                    ]}
                  />
                </ChartCard>
                <ChartCard title="New and returning customers" empty={!stats.some((s) => s.customers > 0)}>
                  <BarChart
                    title="New and returning customers per offer"
                    labels={labels}
                    stacked
                    series={[
                      {name: 'New', color: color(3), values: stats.map((s) => s.new_customers)},
                      {name: 'Returning', color: color(1), values: stats.map((s) => s.returning_customers)},
                    ]}
                  />
                </ChartCard>
              </InlineGrid>
              <ComparisonTable stats={stats} money={money} />
              <DailyCard stats={stats} query={query} money={money} />
            </BlockStack>
          )}
        </Layout.Section>
        <Layout.Section>
          <CampaignsCard campaigns={campaigns} money={money} />
        </Layout.Section>
        <Layout.Section>
          <BacktestCard />
        </Layout.Section>
      </Layout>
    </Page>
  );
}

function ChartCard({title, children, empty}: {title: string; children: ReactNode; empty?: boolean}) {
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          {title}
        </Text>
        {empty ? (
          <Text as="p" tone="subdued">
            Nothing in this period yet.
          </Text>
        ) : (
          children
        )}
      </BlockStack>
    </Card>
  );
}

type SortKey = 'name' | 'uses' | 'discount' | 'revenue' | 'aov_with' | 'aov_without' | 'customers' | 'new_customers' | 'repeat_rate';
const COLUMNS: {key: SortKey; title: string}[] = [
  {key: 'name', title: 'Offer'},
  {key: 'uses', title: 'Uses'},
  {key: 'discount', title: 'Discount'},
  {key: 'revenue', title: 'Revenue'},
  {key: 'aov_with', title: 'AOV with'},
  {key: 'aov_without', title: 'AOV without'},
  {key: 'customers', title: 'Customers'},
  {key: 'new_customers', title: 'New / returning'},
  {key: 'repeat_rate', title: 'Repeat rate'},
];

function ComparisonTable({stats, money}: {stats: OfferStat[]; money: (v: number) => string}) {
  const [sort, setSort] = useState<{col: number; dir: 'ascending' | 'descending'}>({col: 1, dir: 'descending'});
  const sorted = useMemo(() => {
    const key = COLUMNS[sort.col].key;
    const out = stats.slice().sort((a, b) => {
      const x = a[key];
      const y = b[key];
      const c = typeof x === 'string' ? x.localeCompare(String(y)) : (x as number) - (y as number);
      return sort.dir === 'ascending' ? c : -c;
    });
    return out;
  }, [stats, sort]);
  return (
    <Card padding="0">
      <BlockStack>
        <div style={{padding: 'var(--p-space-400) var(--p-space-400) 0'}}>
          <Text as="h2" variant="headingMd">
            Offers compared
          </Text>
        </div>
        <DataTable
          columnContentTypes={['text', 'numeric', 'numeric', 'numeric', 'numeric', 'numeric', 'numeric', 'numeric', 'numeric']}
          headings={COLUMNS.map((c) => c.title)}
          sortable={COLUMNS.map(() => true)}
          defaultSortDirection="descending"
          initialSortColumnIndex={1}
          onSort={(col, dir) => setSort({col, dir: dir as 'ascending' | 'descending'})}
          rows={sorted.map((s) => [
            s.name || s.offer_id,
            s.uses.toLocaleString(),
            money(s.discount),
            money(s.revenue),
            money(s.aov_with),
            money(s.aov_without),
            s.customers.toLocaleString(),
            `${s.new_customers.toLocaleString()} new / ${s.returning_customers.toLocaleString()} returning`,
            `${(s.repeat_rate * 100).toFixed(1)}%`,
          ])}
          totals={[
            '',
            stats.reduce((t, s) => t + s.uses, 0).toLocaleString(),
            money(stats.reduce((t, s) => t + s.discount, 0)),
            money(stats.reduce((t, s) => t + s.revenue, 0)),
            '',
            '',
            '',
            '',
            '',
          ]}
          showTotalsInFooter
        />
      </BlockStack>
    </Card>
  );
}

function DailyCard({stats, query, money}: {stats: OfferStat[]; query: Record<string, string | undefined>; money: (v: number) => string}) {
  const [offerId, setOfferId] = useState(() => stats.slice().sort((a, b) => b.uses - a.uses)[0]?.offer_id ?? '');
  const daily = useLoad(
    (signal) =>
      offerId
        ? api.get<{days: DayStat[]}>(`/api/analytics/offers/${encodeURIComponent(offerId)}/daily`, {signal, query}).then((r) => r.days ?? [])
        : Promise.resolve([] as DayStat[]),
    [offerId, query.from, query.to],
  );
  const days = daily.data ?? [];
  const labels = days.map((d) => d.day);
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="end">
          <Text as="h2" variant="headingMd">
            Day by day
          </Text>
          <div style={{minWidth: 240}}>
            <SelectField
              label="Offer"
              value={offerId}
              options={stats.map((s) => ({label: s.name || s.offer_id, value: s.offer_id}))}
              onChange={setOfferId}
            />
          </div>
        </InlineStack>
        {daily.error ? (
          <ErrorBanner error={daily.error} title="The daily figures could not be loaded" onRetry={daily.reload} />
        ) : !daily.data ? (
          <Text as="p" tone="subdued">
            Loading…
          </Text>
        ) : (
          <InlineGrid columns={{xs: 1, lg: 2}} gap="400">
            <LineChart title="Redemptions per day" labels={labels} series={[{name: 'Uses', color: color(0), values: days.map((d) => d.uses)}]} />
            <LineChart
              title="Discount given and revenue per day"
              labels={labels}
              format={money}
              series={[
                {name: 'Discount given', color: color(4), values: days.map((d) => d.discount)},
                {name: 'Revenue', color: color(1), values: days.map((d) => d.revenue)},
              ]}
            />
          </InlineGrid>
        )}
      </BlockStack>
    </Card>
  );
}

function CampaignsCard({
  campaigns,
  money,
}: {
  campaigns: Load<Answer<'campaigns', CampaignStat>>;
  money: (v: number) => string;
}) {
  const list = campaigns.data?.campaigns ?? [];
  return (
    <Card padding="0">
      <BlockStack>
        <div style={{padding: 'var(--p-space-400) var(--p-space-400) 0'}}>
          <Text as="h2" variant="headingMd">
            Campaigns
          </Text>
        </div>
        {campaigns.error ? (
          <div style={{padding: 'var(--p-space-400)'}}>
            <ErrorBanner error={campaigns.error} title="The campaigns could not be loaded" onRetry={campaigns.reload} />
          </div>
        ) : !campaigns.data ? (
          <div style={{padding: 'var(--p-space-400)'}}>
            <Text as="p" tone="subdued">
              Loading…
            </Text>
          </div>
        ) : list.length === 0 ? (
          <div style={{padding: 'var(--p-space-400)'}}>
            <Text as="p" tone="subdued">
              No campaigns: give offers a campaign name in their Setup to report them together.
            </Text>
          </div>
        ) : (
          <DataTable
            columnContentTypes={['text', 'numeric', 'numeric', 'numeric', 'numeric', 'numeric', 'numeric']}
            headings={['Campaign', 'Offers', 'Uses', 'Discount', 'Revenue', 'Customers', 'New']}
            rows={list.map((c) => [
              c.campaign,
              c.offer_ids.length,
              c.uses.toLocaleString(),
              money(c.discount),
              money(c.revenue),
              c.customers.toLocaleString(),
              c.new_customers.toLocaleString(),
            ])}
          />
        )}
      </BlockStack>
    </Card>
  );
}

function BacktestCard() {
  const offers = useLoad((signal) => api.get<{offers: OfferSummary[]}>('/api/offers', {signal}).then((r) => r.offers ?? []), []);
  const [offerId, setOfferId] = useState('');
  const record = useLoad(
    (signal) => (offerId ? api.get<OfferRecord>(`/api/offers/${encodeURIComponent(offerId)}`, {signal}) : Promise.resolve(null)),
    [offerId],
  );
  const options = [
    {label: 'Choose an offer', value: ''},
    ...(offers.data ?? []).map((o) => ({label: `${o.name} (${o.lifecycle})`, value: o.id})),
  ];
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Backtest
        </Text>
        <Text as="p" tone="subdued">
          Run an offer, drafts included, over past orders as if it had been live: how many orders would have qualified and what it would have
          cost. To try changes before saving them, use the backtest in the offer editor.
        </Text>
        {offers.error ? <Text as="p" tone="critical">{messageOf(offers.error)}</Text> : null}
        <SelectField label="Offer" value={offerId} options={options} onChange={setOfferId} />
        {record.error ? <ErrorBanner error={record.error} title="The offer could not be loaded" onRetry={record.reload} /> : null}
        <BacktestPanel getOffer={() => record.data?.offer ?? null} disabled={!record.data || record.loading} />
      </BlockStack>
    </Card>
  );
}
