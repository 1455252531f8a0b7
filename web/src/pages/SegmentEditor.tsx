// Create (POST /api/segments) or edit (PUT /api/segments/:id) a segment's rules.

import {Banner, BlockStack, Button, Card, InlineGrid, InlineStack, Layout, Page, Text} from '@shopify/polaris';
import {useEffect, useMemo, useState} from 'react';
import {useNavigate, useParams} from 'react-router';

import {BehaviourFields, CheckField, ErrorsContext, Field, ListField, SectionError} from '../components/Fields';
import {ErrorBanner, LoadingCard, ProblemList} from '../components/Feedback';
import {ApiError, api} from '../lib/api';
import {placeErrors} from '../lib/fieldErrors';
import {formToSegment, newSegmentForm, segmentFields, segmentToForm, type SegmentForm} from '../lib/segmentForm';
import {toast} from '../lib/toast';
import type {FieldError, Segment} from '../lib/types';
import {useShop} from '../shop';

export function SegmentEditorPage() {
  const {id} = useParams();
  const navigate = useNavigate();
  const shop = useShop();
  const ctx = useMemo(() => ({exponent: shop.exponent, timeZone: shop.timeZone}), [shop.exponent, shop.timeZone]);
  const [form, setForm] = useState<SegmentForm | null>(id ? null : newSegmentForm());
  const [loadError, setLoadError] = useState<unknown>(null);
  const [problems, setProblems] = useState<FieldError[]>([]);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<Segment | null>(null);
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    if (!id) return;
    let live = true;
    setLoadError(null);
    api
      .get<{segments: Segment[]}>('/api/segments')
      .then((r) => {
        if (!live) return;
        const s = (r.segments ?? []).find((x) => x.id === id);
        if (!s) throw new ApiError(404, 'not found');
        setSaved(s);
        setForm(segmentToForm(s, ctx));
      })
      .catch((e) => live && setLoadError(e));
    return () => {
      live = false;
    };
  }, [id, ctx, nonce]);

  const placed = useMemo(() => placeErrors(problems, form ? segmentFields(form) : []), [problems, form]);

  if (loadError) {
    return (
      <Page title="Segment" backAction={{content: 'Segments', url: '/segments'}}>
        <ErrorBanner error={loadError} title="The segment could not be loaded" onRetry={() => setNonce((n) => n + 1)} />
      </Page>
    );
  }
  if (!form) {
    return (
      <Page title="Segment" backAction={{content: 'Segments', url: '/segments'}}>
        <LoadingCard label="Loading the segment" />
      </Page>
    );
  }
  const update = (patch: Partial<SegmentForm>) => setForm((f) => (f ? {...f, ...patch} : f));

  async function save() {
    if (!form) return;
    setSaveError(null);
    const built = formToSegment(form, ctx);
    setProblems(built.problems);
    if (built.problems.length) return;
    setSaving(true);
    try {
      const s = id
        ? await api.put<Segment>(`/api/segments/${encodeURIComponent(id)}`, built.segment)
        : await api.post<Segment>('/api/segments', built.segment);
      toast(`Saved ${s.name}`);
      setSaved(s);
      setProblems([]);
      if (!id) navigate(`/segments/${encodeURIComponent(s.id)}?created=1`, {replace: true});
      else setForm(segmentToForm(s, ctx));
    } catch (e) {
      if (e instanceof ApiError && e.problems.length) setProblems(e.problems);
      else setSaveError(e);
    } finally {
      setSaving(false);
    }
  }

  const count = Object.values(placed.byField).reduce((n, l) => n + l.length, 0) + placed.unplaced.length;
  return (
    <Page
      title={id ? saved?.name || 'Segment' : 'Create segment'}
      backAction={{content: 'Segments', url: '/segments'}}
      primaryAction={{content: 'Save segment', onAction: save, loading: saving}}
      secondaryActions={
        saved ? [{content: 'Create offer for this segment', onAction: () => navigate(`/offers/new?segment=${encodeURIComponent(saved.id)}`)}] : []
      }
    >
      <ErrorsContext.Provider value={placed.byField}>
        <Layout>
          {(count > 0 || !!saveError) && (
            <Layout.Section>
              {count > 0 && (
                <Banner tone="critical" title={`${count} ${count === 1 ? 'field needs' : 'fields need'} attention`}>
                  <ProblemList problems={placed.unplaced} />
                </Banner>
              )}
              {saveError ? <ErrorBanner error={saveError} title="The segment was not saved" /> : null}
            </Layout.Section>
          )}
          {saved && id && (
            <Layout.Section>
              <Banner tone="success" title={`${saved.name} is saved`}>
                <p>Give it an offer: tiers by cart value for its customers, combined with codes or not.</p>
                <Button onClick={() => navigate(`/offers/new?segment=${encodeURIComponent(saved.id)}`)}>Create offer for this segment</Button>
              </Banner>
            </Layout.Section>
          )}
          <Layout.Section>
            <BlockStack gap="400">
              <Card>
                <BlockStack gap="300">
                  <InlineGrid columns={{xs: 1, md: '2fr 1fr'}} gap="300">
                    <Field label="Name" path="name" value={form.name} onChange={(v) => update({name: v})} />
                    <Field
                      label="Priority"
                      path="priority"
                      value={form.priority}
                      onChange={(v) => update({priority: v})}
                      inputMode="numeric"
                      helpText={id ? 'Higher wins. Reorder on the Segments page.' : 'Empty: below the other segments.'}
                    />
                  </InlineGrid>
                </BlockStack>
              </Card>
              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Rules
                  </Text>
                  <Text as="p" tone="subdued">
                    A customer is in the segment when every rule you fill in holds. Lists match any of their entries.
                  </Text>
                  <SectionError path="rules" />
                  <InlineGrid columns={{xs: 1, md: 2}} gap="300">
                    <ListField label="Customer tags" path="rules.customer_tags" value={form.customerTags} onChange={(v) => update({customerTags: v})} />
                    <ListField
                      label="Delivery methods"
                      path="rules.delivery_methods"
                      value={form.deliveryMethods}
                      onChange={(v) => update({deliveryMethods: v})}
                      helpText="The cart’s chosen delivery option: its title, code or type."
                    />
                    <ListField label="Cities" path="rules.cities" value={form.cities} onChange={(v) => update({cities: v})} />
                    <ListField
                      label="Postcodes"
                      path="rules.postcodes"
                      value={form.postcodes}
                      onChange={(v) => update({postcodes: v})}
                      helpText="A postcode matches when it starts with an entry (E1 matches E1 6AN)."
                    />
                    <ListField
                      label="Countries"
                      path="rules.countries"
                      value={form.countries}
                      onChange={(v) => update({countries: v})}
                      helpText="Two-letter codes, such as GB or FR."
                    />
                  </InlineGrid>
                  <CheckField
                    label="Purchase history"
                    path="rules.behaviour"
                    checked={form.behaviourEnabled}
                    onChange={(v) => update({behaviourEnabled: v})}
                    helpText="Orders, spend, products bought or codes used."
                  />
                  {form.behaviourEnabled && (
                    <BehaviourFields path="rules.behaviour" value={form.behaviour} onChange={(v) => update({behaviour: v})} />
                  )}
                </BlockStack>
              </Card>
              <InlineStack align="end">
                <Button variant="primary" onClick={save} loading={saving}>
                  Save segment
                </Button>
              </InlineStack>
            </BlockStack>
          </Layout.Section>
        </Layout>
      </ErrorsContext.Provider>
    </Page>
  );
}
