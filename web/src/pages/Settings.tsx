// The shop's settings (GET/PUT /api/settings, store.ShopSettings): its timezone, what counts as
// an order in purchase history, the cash-on-delivery gateway names, and whether a cancelled
// order gives its uses back.

import {Banner, BlockStack, Button, Card, InlineStack, Layout, Page, Text} from '@shopify/polaris';
import {useEffect, useMemo, useState} from 'react';

import {CheckField, ErrorsContext, ListField, SelectField} from '../components/Fields';
import {ErrorBanner, LoadingCard, ProblemList} from '../components/Feedback';
import {ApiError, api} from '../lib/api';
import {placeErrors} from '../lib/fieldErrors';
import {joinList, splitLines} from '../lib/lists';
import {toast} from '../lib/toast';
import type {FieldError, ShopSettings} from '../lib/types';
import {useLoad} from '../lib/useLoad';
import {useShop} from '../shop';

interface SettingsForm extends Omit<ShopSettings, 'cod_gateways'> {
  cod_gateways: string;
}

function zones(current: string): {label: string; value: string}[] {
  let list: string[] = [];
  try {
    list = (Intl as unknown as {supportedValuesOf?: (k: string) => string[]}).supportedValuesOf?.('timeZone') ?? [];
  } catch {
    list = [];
  }
  if (!list.includes('UTC')) list = ['UTC', ...list];
  if (current && !list.includes(current)) list = [current, ...list];
  return list.map((z) => ({label: z.replace(/_/g, ' '), value: z}));
}

export function SettingsPage() {
  const shop = useShop();
  const settings = useLoad((signal) => api.get<ShopSettings>('/api/settings', {signal}), []);
  const [form, setForm] = useState<SettingsForm | null>(null);
  const [problems, setProblems] = useState<FieldError[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (settings.data) setForm({...settings.data, cod_gateways: joinList(settings.data.cod_gateways)});
  }, [settings.data]);

  const gatewayCount = form ? splitLines(form.cod_gateways).length : 0;
  const placed = useMemo(
    () => placeErrors(problems, ['timezone', 'cod_gateways', ...Array.from({length: gatewayCount}, (_, i) => `cod_gateways[${i}]`)]),
    [problems, gatewayCount],
  );
  const options = useMemo(() => zones(form?.timezone ?? ''), [form?.timezone]);

  async function save() {
    if (!form) return;
    setSaving(true);
    setError(null);
    setSaved(false);
    setProblems([]);
    try {
      const s = await api.put<ShopSettings>('/api/settings', {...form, cod_gateways: splitLines(form.cod_gateways)});
      settings.setData(s);
      shop.setSettings(s);
      setSaved(true);
      toast('Settings saved');
    } catch (e) {
      if (e instanceof ApiError && e.problems.length) setProblems(e.problems);
      else setError(e);
    } finally {
      setSaving(false);
    }
  }

  const set = (patch: Partial<SettingsForm>) => {
    setSaved(false);
    setForm((f) => (f ? {...f, ...patch} : f));
  };
  return (
    <Page title="Settings" primaryAction={{content: 'Save', onAction: save, loading: saving, disabled: !form}}>
      <ErrorsContext.Provider value={placed.byField}>
        <Layout>
          {settings.error ? (
            <Layout.Section>
              <ErrorBanner error={settings.error} title="The settings could not be loaded" onRetry={settings.reload} />
            </Layout.Section>
          ) : !form ? (
            <Layout.Section>
              <LoadingCard label="Loading the settings" />
            </Layout.Section>
          ) : (
            <>
              {(error || placed.unplaced.length > 0) && (
                <Layout.Section>
                  {error ? <ErrorBanner error={error} title="The settings were not saved" /> : null}
                  {placed.unplaced.length > 0 && (
                    <Banner tone="critical" title="The settings were not saved">
                      <ProblemList problems={placed.unplaced} />
                    </Banner>
                  )}
                </Layout.Section>
              )}
              {saved && (
                <Layout.Section>
                  <Banner tone="success" title="Settings saved" onDismiss={() => setSaved(false)} />
                </Layout.Section>
              )}
              <Layout.AnnotatedSection title="Timezone" description="Schedules, per-day caps and daily reports use the shop’s local date.">
                <Card>
                  <SelectField label="Timezone" path="timezone" value={form.timezone} options={options} onChange={(v) => set({timezone: v})} />
                </Card>
              </Layout.AnnotatedSection>
              <Layout.AnnotatedSection
                title="What counts as an order"
                description="For purchase history: behaviour rules, first order, nth order. Partial refunds always reduce spend."
              >
                <Card>
                  <BlockStack gap="200">
                    <CheckField label="Count test orders" checked={form.count_test_orders} onChange={(v) => set({count_test_orders: v})} />
                    <CheckField label="Count cancelled orders" checked={form.count_cancelled} onChange={(v) => set({count_cancelled: v})} />
                    <CheckField label="Count fully refunded orders" checked={form.count_fully_refunded} onChange={(v) => set({count_fully_refunded: v})} />
                    <CheckField
                      label="Count unpaid cash-on-delivery orders"
                      checked={form.count_unpaid_cod}
                      onChange={(v) => set({count_unpaid_cod: v})}
                      helpText="Off: a cash-on-delivery order counts once it is paid."
                    />
                  </BlockStack>
                </Card>
              </Layout.AnnotatedSection>
              <Layout.AnnotatedSection title="Cash on delivery" description="Payment gateway names that mean cash on delivery, compared without case.">
                <Card>
                  <ListField
                    label="Cash-on-delivery gateways"
                    path="cod_gateways"
                    value={form.cod_gateways}
                    onChange={(v) => set({cod_gateways: v})}
                    lines={3}
                    helpText="One name per line."
                  />
                </Card>
              </Layout.AnnotatedSection>
              <Layout.AnnotatedSection title="Usage" description="Refunds never give uses back.">
                <Card>
                  <CheckField
                    label="A cancelled order gives its uses back"
                    checked={form.release_usage_on_cancel}
                    onChange={(v) => set({release_usage_on_cancel: v})}
                    helpText="Its redemptions stop counting toward the offer’s limits."
                  />
                </Card>
              </Layout.AnnotatedSection>
              <Layout.Section>
                <InlineStack align="end">
                  <Button variant="primary" onClick={save} loading={saving}>
                    Save
                  </Button>
                </InlineStack>
              </Layout.Section>
              <Layout.Section>
                <Text as="p" tone="subdued" alignment="center">
                  {shop.domain ? `${shop.domain} · ` : ''}Amounts in {shop.currency}
                </Text>
              </Layout.Section>
            </>
          )}
        </Layout>
      </ErrorsContext.Provider>
    </Page>
  );
}
