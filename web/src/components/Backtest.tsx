// Backtest of a draft offer (app/backtest.go): POST /api/offers/backtest starts a job over the
// shop's orders of the last N days; GET /api/backtests/:id is polled for its progress until it
// is done.

import {Banner, BlockStack, Button, DataTable, InlineGrid, InlineStack, List, ProgressBar, Text} from '@shopify/polaris';
import {useEffect, useRef, useState} from 'react';

import {ApiError, api, messageOf} from '../lib/api';
import {reasonText} from '../lib/describe';
import {humanPath, sentence} from '../lib/fieldErrors';
import {formatMoney, parseCount} from '../lib/money';
import type {BacktestJob, BacktestVariant, FieldError, Offer} from '../lib/types';
import {useShop} from '../shop';
import {CountField} from './Fields';

export const BACKTEST_POLL_MS = 400;

export function BacktestPanel({
  getOffer,
  onProblems,
  disabled,
}: {
  /** The offer to run, or null when the form has problems of its own (then shown by the caller). */
  getOffer: () => Offer | null;
  /** Where the server's problems with the offer go; listed here when not given. */
  onProblems?: (problems: FieldError[]) => void;
  disabled?: boolean;
}) {
  const shop = useShop();
  const [days, setDays] = useState('90');
  const [daysError, setDaysError] = useState<string>();
  const [job, setJob] = useState<BacktestJob | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problems, setProblems] = useState<FieldError[]>([]);
  const [running, setRunning] = useState(false);
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );

  async function run() {
    setError(null);
    setProblems([]);
    const d = parseCount(days, {min: 1, max: 730});
    if (!d.ok || d.value === null) {
      setDaysError(d.ok ? 'Enter a number of days from 1 to 730' : d.error);
      return;
    }
    setDaysError(undefined);
    const offer = getOffer();
    if (!offer) return;
    setRunning(true);
    setJob(null);
    try {
      const started = await api.post<{job_id: string}>('/api/offers/backtest', {offer, days: d.value});
      let current: BacktestJob = {job_id: started.job_id, state: 'running', processed: 0, total: 0};
      setJob(current);
      while (alive.current && current.state === 'running') {
        await new Promise((r) => setTimeout(r, BACKTEST_POLL_MS));
        current = await api.get<BacktestJob>(`/api/backtests/${encodeURIComponent(started.job_id)}`);
        if (alive.current) setJob(current);
      }
      if (current.state === 'failed') setError(new Error(current.error || 'The backtest failed'));
    } catch (e) {
      if (e instanceof ApiError && e.problems.length) {
        if (onProblems) {
          onProblems(e.problems);
          setError(new Error('The offer has problems: fix the fields marked above, then run the backtest again.'));
        } else {
          setProblems(e.problems);
        }
      } else {
        setError(e);
      }
    } finally {
      if (alive.current) setRunning(false);
    }
  }

  const progress = job && job.total > 0 ? Math.min(100, Math.round((job.processed / job.total) * 100)) : job?.state === 'done' ? 100 : 0;
  const result = job?.state === 'done' ? job.result : undefined;
  return (
    <BlockStack gap="300">
      <InlineStack gap="300" blockAlign="end" wrap={false}>
        <div style={{flex: 1}}>
          <CountField label="Orders of the last … days" value={days} onChange={setDays} error={daysError} suffix="days" />
        </div>
        <Button onClick={run} loading={running} disabled={disabled}>
          Run backtest
        </Button>
      </InlineStack>
      {job && job.state === 'running' && (
        <BlockStack gap="100">
          <ProgressBar progress={progress} size="small" ariaLabelledBy="backtest-progress" />
          <Text as="p" tone="subdued" id="backtest-progress">
            {job.total > 0 ? `${job.processed.toLocaleString()} of ${job.total.toLocaleString()} orders` : 'Reading orders…'}
          </Text>
        </BlockStack>
      )}
      {error ? (
        <Banner tone="critical" title="The backtest could not run">
          <p>{messageOf(error)}</p>
        </Banner>
      ) : null}
      {problems.length > 0 && (
        <Banner tone="critical" title="The offer has problems">
          <List>
            {problems.map((p) => (
              <List.Item key={p.path + p.message}>
                {humanPath(p.path)}: {sentence(p.message)}
              </List.Item>
            ))}
          </List>
        </Banner>
      )}
      {result && (
        <BlockStack gap="300">
          <Text as="p">
            {result.orders_considered.toLocaleString()} orders considered, from{' '}
            {new Date(result.from).toLocaleDateString()} to {new Date(result.until).toLocaleDateString()}.
          </Text>
          <InlineGrid columns={{xs: 1, md: result.code_entered_by_everyone ? 2 : 1}} gap="300">
            <VariantResult v={result.as_placed} currency={shop.currency} />
            {result.code_entered_by_everyone && <VariantResult v={result.code_entered_by_everyone} currency={shop.currency} />}
          </InlineGrid>
          {result.notes && result.notes.length > 0 && (
            <Banner tone="info" title="What the orders cannot tell">
              <List>
                {result.notes.map((n) => (
                  <List.Item key={n}>{sentence(n)}</List.Item>
                ))}
              </List>
            </Banner>
          )}
        </BlockStack>
      )}
    </BlockStack>
  );
}

function VariantResult({v, currency}: {v: BacktestVariant; currency: string}) {
  return (
    <BlockStack gap="200">
      <Text as="h3" variant="headingSm">
        {sentence(v.label)}
      </Text>
      <DataTable
        columnContentTypes={['text', 'numeric']}
        headings={['Figure', 'Value']}
        rows={[
          ['Qualifying orders', v.qualifying_orders.toLocaleString()],
          ['Customers', v.customers.toLocaleString()],
          ['Cost (discount given)', formatMoney(v.cost, currency)],
        ]}
      />
      {v.not_qualified && v.not_qualified.length > 0 && (
        <BlockStack gap="100">
          <Text as="h4" variant="headingXs">
            Why other orders did not qualify
          </Text>
          <List>
            {v.not_qualified.map((r) => (
              <List.Item key={r.reason}>
                {r.orders.toLocaleString()} orders: {reasonText(r.reason)}
              </List.Item>
            ))}
          </List>
        </BlockStack>
      )}
    </BlockStack>
  );
}
