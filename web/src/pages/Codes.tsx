// The unique codes of an offer whose application kind is "codes" (app/codes.go): generate N by
// pattern in chunks (one request each, the progress bar moving per chunk), import a CSV with a
// report of every bad row, export all codes as CSV.

import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  DataTable,
  DropZone,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  ProgressBar,
  Text,
} from '@shopify/polaris';
import {useEffect, useMemo, useRef, useState} from 'react';
import {useParams, useSearchParams} from 'react-router';

import {CheckField, CountField, ErrorsContext, Field, SelectField} from '../components/Fields';
import {ErrorBanner, LoadingCard} from '../components/Feedback';
import {ApiError, api, messageOf, saveBlob} from '../lib/api';
import {MAX_CODES_PER_RUN, exampleCode, planChunks} from '../lib/codes';
import {SYNC_LABELS, syncTone} from '../lib/describe';
import {placeErrors} from '../lib/fieldErrors';
import {parseCount} from '../lib/money';
import {toast} from '../lib/toast';
import type {FieldError, OfferRecord, RowProblem} from '../lib/types';
import {useLoad} from '../lib/useLoad';

const CHARSETS = [
  {label: 'Letters and digits without look-alikes (no 0, O, 1, I, L)', value: 'default'},
  {label: 'Letters and digits', value: 'alphanumeric'},
  {label: 'Letters only', value: 'letters'},
  {label: 'Digits only', value: 'digits'},
  {label: 'Custom characters', value: 'custom'},
];

const codes = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'code' : 'codes'}`;
const rows = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'row' : 'rows'}`;

interface GenerateState {
  total: number;
  done: number;
  chunk: number;
  chunks: number;
  sample: string[];
  finished: boolean;
}

export function CodesPage() {
  const {id = ''} = useParams();
  const [params] = useSearchParams();
  const offer = useLoad((signal) => api.get<OfferRecord>(`/api/offers/${encodeURIComponent(id)}`, {signal}), [id]);
  const sync = useLoad(
    (signal) => api.get<{state: string; last_error?: string}>(`/api/offers/${encodeURIComponent(id)}/sync`, {signal}),
    [id],
  );

  if (offer.error) {
    return (
      <Page title="Codes" backAction={{content: 'Offers', url: '/offers'}}>
        <ErrorBanner error={offer.error} title="The offer could not be loaded" onRetry={offer.reload} />
      </Page>
    );
  }
  if (!offer.data) {
    return (
      <Page title="Codes" backAction={{content: 'Offers', url: '/offers'}}>
        <LoadingCard label="Loading the offer" />
      </Page>
    );
  }
  const o = offer.data.offer;
  const isCodes = o.application.kind === 'codes';
  return (
    <Page
      title={`Codes: ${o.name}`}
      backAction={{content: 'Offer', url: `/offers/${encodeURIComponent(id)}`}}
      titleMetadata={
        sync.data ? <Badge tone={syncTone(sync.data.state)}>{SYNC_LABELS[sync.data.state] ?? sync.data.state}</Badge> : undefined
      }
    >
      <Layout>
        {params.get('created') && isCodes && (
          <Layout.Section>
            <Banner tone="success" title="Offer created">
              <p>Now give it codes: generate a batch or import a file. The platform discount is created with the first codes.</p>
            </Banner>
          </Layout.Section>
        )}
        {!isCodes ? (
          <Layout.Section>
            <Banner tone="warning" title="This offer does not use unique codes">
              <p>
                Only offers applied by unique codes hold a code book. Change “How shoppers get it” to “Unique codes” in the offer to use
                them.
              </p>
            </Banner>
          </Layout.Section>
        ) : (
          <>
            <Layout.Section>
              <GenerateCard offerId={id} onDone={sync.reload} />
            </Layout.Section>
            <Layout.Section variant="oneHalf">
              <ImportCard offerId={id} onDone={sync.reload} />
            </Layout.Section>
            <Layout.Section variant="oneHalf">
              <ExportCard offerId={id} />
            </Layout.Section>
          </>
        )}
      </Layout>
    </Page>
  );
}

function GenerateCard({offerId, onDone}: {offerId: string; onDone: () => void}) {
  const [count, setCount] = useState('1000');
  const [length, setLength] = useState('8');
  const [charset, setCharset] = useState('default');
  const [custom, setCustom] = useState('');
  const [prefix, setPrefix] = useState('');
  const [suffix, setSuffix] = useState('');
  const [singleUse, setSingleUse] = useState(true);
  const [problems, setProblems] = useState<FieldError[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [state, setState] = useState<GenerateState | null>(null);
  const [running, setRunning] = useState(false);
  const cancelled = useRef(false);
  useEffect(
    () => () => {
      cancelled.current = true;
    },
    [],
  );

  const placed = useMemo(
    () => placeErrors(problems, ['count', 'pattern.length', 'pattern.charset', 'pattern.prefix', 'pattern.suffix', 'pattern']),
    [problems],
  );
  const pattern = {
    length: Number(length) || 0,
    charset: charset === 'custom' ? custom : charset,
    prefix: prefix.trim(),
    suffix: suffix.trim(),
  };

  async function generate() {
    setError(null);
    const local: FieldError[] = [];
    const n = parseCount(count, {min: 1, max: MAX_CODES_PER_RUN});
    if (!n.ok || !n.value) local.push({path: 'count', message: n.ok ? 'Enter how many codes to generate' : n.error});
    const len = parseCount(length, {min: 4, max: 30});
    if (!len.ok || !len.value) local.push({path: 'pattern.length', message: len.ok ? 'Enter a length' : len.error});
    setProblems(local);
    if (local.length || !n.ok || !n.value) return;
    const chunks = planChunks(n.value);
    cancelled.current = false;
    setRunning(true);
    let done = 0;
    let sample: string[] = [];
    setState({total: n.value, done: 0, chunk: 0, chunks: chunks.length, sample, finished: false});
    try {
      for (let i = 0; i < chunks.length && !cancelled.current; i++) {
        const r = await api.post<{generated: number; sample: string[]}>(`/api/offers/${encodeURIComponent(offerId)}/codes/generate`, {
          pattern,
          count: chunks[i],
          single_use: singleUse,
        });
        done += r.generated;
        if (sample.length < 10) sample = [...sample, ...r.sample].slice(0, 10);
        setState({total: n.value, done, chunk: i + 1, chunks: chunks.length, sample, finished: i + 1 === chunks.length});
      }
      if (!cancelled.current) toast(`Generated ${codes(done)}`);
    } catch (e) {
      if (e instanceof ApiError && e.problems.length) setProblems(e.problems);
      else setError(e);
      setState((s) => (s ? {...s, finished: false} : s));
    } finally {
      setRunning(false);
      onDone();
    }
  }

  const progress = state ? Math.round((state.done / state.total) * 100) : 0;
  return (
    <Card>
      <ErrorsContext.Provider value={placed.byField}>
        <BlockStack gap="400">
          <Text as="h2" variant="headingMd">
            Generate codes
          </Text>
          <InlineGrid columns={{xs: 1, md: 3}} gap="300">
            <CountField label="Number of codes" path="count" value={count} onChange={setCount} helpText="Up to 1,000,000; sent in batches." />
            <CountField label="Random characters" path="pattern.length" value={length} onChange={setLength} helpText="4 to 30, prefix and suffix included in the 30." />
            <CheckField label="Single use" checked={singleUse} onChange={setSingleUse} helpText="Each code works for one order." />
          </InlineGrid>
          <InlineGrid columns={{xs: 1, md: 3}} gap="300">
            <SelectField label="Characters" path="pattern.charset" value={charset} options={CHARSETS} onChange={setCharset} />
            <Field label="Prefix" path="pattern.prefix" value={prefix} onChange={setPrefix} helpText="Letters and digits." monospaced />
            <Field label="Suffix" path="pattern.suffix" value={suffix} onChange={setSuffix} helpText="Letters and digits." monospaced />
          </InlineGrid>
          {charset === 'custom' && (
            <Field label="Custom characters" path="pattern.charset" value={custom} onChange={setCustom} helpText="At least 2 distinct letters or digits." monospaced />
          )}
          <Text as="p" tone="subdued">
            Looks like <code>{exampleCode(pattern)}</code>
          </Text>
          {placed.unplaced.length > 0 && (
            <Banner tone="critical">
              {placed.unplaced.map((p) => (
                <p key={p.path}>{p.message}</p>
              ))}
            </Banner>
          )}
          {error ? <ErrorBanner error={error} title="Generation stopped" /> : null}
          {state && (
            <BlockStack gap="100">
              <ProgressBar progress={progress} tone={state.finished ? 'success' : 'highlight'} ariaLabelledBy="codes-progress" />
              <div role="status">
                <Text as="p" id="codes-progress">
                  {state.finished
                    ? `Generated ${codes(state.done)}.`
                    : `${state.done.toLocaleString()} of ${state.total.toLocaleString()} codes (batch ${state.chunk} of ${state.chunks})…`}
                </Text>
              </div>
              {state.sample.length > 0 && (
                <Text as="p" tone="subdued">
                  Sample: <code>{state.sample.join(', ')}</code>
                </Text>
              )}
            </BlockStack>
          )}
          <InlineStack gap="200">
            <Button variant="primary" onClick={generate} loading={running}>
              Generate
            </Button>
            {running && (
              <Button
                onClick={() => {
                  cancelled.current = true;
                }}
              >
                Stop after this batch
              </Button>
            )}
          </InlineStack>
        </BlockStack>
      </ErrorsContext.Provider>
    </Card>
  );
}

function ImportCard({offerId, onDone}: {offerId: string; onDone: () => void}) {
  const [file, setFile] = useState<File | null>(null);
  const [strict, setStrict] = useState(false);
  const [report, setReport] = useState<{imported: number; problems: RowProblem[]; error?: string} | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [running, setRunning] = useState(false);

  async function upload() {
    if (!file) return;
    setRunning(true);
    setError(null);
    setReport(null);
    try {
      const res = await api.raw('POST', `/api/offers/${encodeURIComponent(offerId)}/codes/import`, {
        body: file,
        contentType: 'text/csv',
        query: {strict: strict ? 1 : undefined},
      });
      const data = await res.json().catch(() => null);
      if (data && Array.isArray(data.problems) && typeof data.imported === 'number') {
        setReport({imported: data.imported, problems: data.problems, error: res.ok ? undefined : data.error});
        if (data.imported) toast(`Imported ${codes(data.imported)}`);
      } else if (!res.ok) {
        throw new ApiError(res.status, data?.error ?? `The import failed (${res.status})`, data?.problems ?? []);
      }
    } catch (e) {
      setError(e);
    } finally {
      setRunning(false);
      onDone();
    }
  }

  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Import codes
        </Text>
        <Text as="p" tone="subdued">
          A CSV file with the columns <code>code</code>, <code>customer_id</code> (optional: the code is then only for that customer) and{' '}
          <code>single_use</code> (true or false). An export imports back as it is.
        </Text>
        <DropZone
          label="CSV file"
          accept=".csv,text/csv,text/plain"
          allowMultiple={false}
          type="file"
          onDrop={(_all, accepted) => {
            setFile(accepted[0] ?? null);
            setReport(null);
          }}
        >
          {file ? (
            <div style={{padding: 'var(--p-space-400)'}}>
              <Text as="p">
                {file.name} ({(file.size / 1024).toFixed(1)} KB)
              </Text>
            </div>
          ) : (
            <DropZone.FileUpload actionHint="Accepts .csv" />
          )}
        </DropZone>
        <CheckField label="All or nothing" checked={strict} onChange={setStrict} helpText="Import nothing if any row has a problem." />
        <InlineStack>
          <Button onClick={upload} disabled={!file} loading={running}>
            Import
          </Button>
        </InlineStack>
        {error ? <Banner tone="critical" title="The import failed"><p>{messageOf(error)}</p></Banner> : null}
        {report && (
          <BlockStack gap="200">
            <Banner
              tone={report.problems.length ? 'warning' : 'success'}
              title={
                report.error
                  ? `Nothing imported: ${rows(report.problems.length)} with problems`
                  : `Imported ${codes(report.imported)}${report.problems.length ? `; ${rows(report.problems.length)} skipped` : ''}`
              }
            />
            {report.problems.length > 0 && (
              <DataTable
                columnContentTypes={['numeric', 'text', 'text']}
                headings={['Line', 'Column', 'Problem']}
                rows={report.problems.slice(0, 200).map((p) => [p.line, p.field || '—', p.message])}
                footerContent={report.problems.length > 200 ? `First 200 of ${report.problems.length} problems` : undefined}
              />
            )}
          </BlockStack>
        )}
      </BlockStack>
    </Card>
  );
}

function ExportCard({offerId}: {offerId: string}) {
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function download() {
    setRunning(true);
    setError(null);
    try {
      const {blob, filename} = await api.blob(`/api/offers/${encodeURIComponent(offerId)}/codes.csv`);
      saveBlob(blob, filename ?? `codes-${offerId}.csv`);
    } catch (e) {
      setError(e);
    } finally {
      setRunning(false);
    }
  }
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Export codes
        </Text>
        <Text as="p" tone="subdued">
          Every code of the offer as CSV, in code order, with the columns the import reads.
        </Text>
        <InlineStack>
          <Button onClick={download} loading={running}>
            Export CSV
          </Button>
        </InlineStack>
        {error ? <ErrorBanner error={error} title="The export failed" /> : null}
      </BlockStack>
    </Card>
  );
}
