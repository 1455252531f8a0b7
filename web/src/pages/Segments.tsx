// Segments, highest priority first (GET /api/segments). The order is the priority: drag a row,
// or use its move up and move down buttons (keyboard), and the new order is saved with
// POST /api/segments/reorder. Each segment can get its own offer (tiers by cart value, and
// whether it combines with codes): "Create offer" opens the editor prefilled.

import {Badge, Banner, BlockStack, Box, Button, ButtonGroup, Card, Icon, InlineStack, Modal, Page, Text} from '@shopify/polaris';
import {ArrowDownIcon, ArrowUpIcon, DragHandleIcon} from '@shopify/polaris-icons';
import {useState} from 'react';
import {useNavigate} from 'react-router';

import {Empty, ErrorBanner, LoadingCard} from '../components/Feedback';
import {api} from '../lib/api';
import {describeRules, moveItem} from '../lib/segmentForm';
import {toast} from '../lib/toast';
import type {Segment} from '../lib/types';
import {useLoad} from '../lib/useLoad';

export function SegmentsPage() {
  const navigate = useNavigate();
  const segments = useLoad((signal) => api.get<{segments: Segment[]}>('/api/segments', {signal}).then((r) => r.segments ?? []), []);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [announcement, setAnnouncement] = useState('');
  const [dragging, setDragging] = useState<number | null>(null);
  const [over, setOver] = useState<number | null>(null);
  const [deleting, setDeleting] = useState<Segment | null>(null);

  async function reorder(from: number, to: number) {
    const list = segments.data;
    if (!list || from === to || to < 0 || to >= list.length) return;
    const before = list;
    const next = moveItem(list, from, to);
    segments.setData(next); // at once; put back if the save fails
    setAnnouncement(`${list[from].name} moved to position ${to + 1} of ${list.length}.`);
    setSaving(true);
    setError(null);
    try {
      const r = await api.post<{segments: Segment[]}>('/api/segments/reorder', {ids: next.map((s) => s.id)});
      segments.setData(r.segments ?? next);
      toast('Segment order saved');
    } catch (e) {
      segments.setData(before);
      setError(e);
      setAnnouncement('The new order could not be saved.');
    } finally {
      setSaving(false);
    }
  }

  async function remove(s: Segment) {
    setError(null);
    try {
      await api.delete(`/api/segments/${encodeURIComponent(s.id)}`);
      toast(`Deleted ${s.name}`);
      segments.setData((prev) => (prev ?? []).filter((x) => x.id !== s.id));
    } catch (e) {
      setError(e);
    } finally {
      setDeleting(null);
    }
  }

  const list = segments.data;
  return (
    <Page
      title="Segments"
      subtitle="Groups of customers with their own offers. A customer in several segments gets only the highest one’s offers."
      primaryAction={{content: 'Create segment', url: '/segments/new'}}
    >
      <BlockStack gap="400">
        <div role="status" aria-live="polite" className="regulars-visually-hidden">
          {announcement}
        </div>
        {error ? <ErrorBanner error={error} title="The change was not saved" /> : null}
        {segments.error ? (
          <ErrorBanner error={segments.error} title="The segments could not be loaded" onRetry={segments.reload} />
        ) : list === undefined ? (
          <LoadingCard label="Loading the segments" />
        ) : list.length === 0 ? (
          <Empty heading="No segments yet" action={{content: 'Create segment', url: '/segments/new'}}>
            Group customers by tags, where they live, how they take delivery or what they bought, then give the group its own offer.
          </Empty>
        ) : (
          <Card padding="0">
            <Box padding="300">
              <Text as="p" tone="subdued">
                Highest priority first. Drag a segment by its handle, or use its arrows, to change the order.
                {saving ? ' Saving…' : ''}
              </Text>
            </Box>
            <ol aria-label="Segments by priority" style={{listStyle: 'none', margin: 0, padding: 0}}>
              {list.map((s, i) => (
                <li
                  key={s.id}
                  className="regulars-drag-row"
                  data-dragging={dragging === i}
                  data-over={over === i && dragging !== null && dragging !== i}
                  draggable
                  onDragStart={(e) => {
                    setDragging(i);
                    e.dataTransfer.effectAllowed = 'move';
                    e.dataTransfer.setData('text/plain', s.id);
                  }}
                  onDragOver={(e) => {
                    e.preventDefault();
                    e.dataTransfer.dropEffect = 'move';
                    if (over !== i) setOver(i);
                  }}
                  onDragLeave={() => setOver((o) => (o === i ? null : o))}
                  onDrop={(e) => {
                    e.preventDefault();
                    if (dragging !== null) void reorder(dragging, i);
                    setDragging(null);
                    setOver(null);
                  }}
                  onDragEnd={() => {
                    setDragging(null);
                    setOver(null);
                  }}
                  style={{borderTop: '1px solid var(--p-color-border-secondary)'}}
                >
                  <Box padding="300">
                    <InlineStack gap="300" align="space-between" blockAlign="center" wrap={false}>
                      <InlineStack gap="300" blockAlign="center" wrap={false}>
                        <span style={{cursor: 'grab'}} aria-hidden="true" title="Drag to reorder">
                          <Icon source={DragHandleIcon} tone="subdued" />
                        </span>
                        <BlockStack gap="050">
                          <InlineStack gap="200" blockAlign="center">
                            <Text as="h2" variant="headingSm">
                              {s.name}
                            </Text>
                            <Badge>{`#${i + 1} · priority ${s.priority}`}</Badge>
                          </InlineStack>
                          <Text as="p" tone="subdued">
                            {describeRules(s.rules ?? {})}
                          </Text>
                        </BlockStack>
                      </InlineStack>
                      <InlineStack gap="200" wrap={false} blockAlign="center">
                        <ButtonGroup variant="segmented">
                          <Button
                            icon={ArrowUpIcon}
                            accessibilityLabel={`Move ${s.name} up`}
                            disabled={i === 0 || saving}
                            onClick={() => reorder(i, i - 1)}
                          />
                          <Button
                            icon={ArrowDownIcon}
                            accessibilityLabel={`Move ${s.name} down`}
                            disabled={i === list.length - 1 || saving}
                            onClick={() => reorder(i, i + 1)}
                          />
                        </ButtonGroup>
                        <Button url={`/segments/${encodeURIComponent(s.id)}`} accessibilityLabel={`Edit ${s.name}`}>
                          Edit
                        </Button>
                        <Button
                          onClick={() => navigate(`/offers/new?segment=${encodeURIComponent(s.id)}`)}
                          accessibilityLabel={`Create offer for ${s.name}`}
                        >
                          Create offer
                        </Button>
                        <Button tone="critical" variant="plain" onClick={() => setDeleting(s)} accessibilityLabel={`Delete ${s.name}`}>
                          Delete
                        </Button>
                      </InlineStack>
                    </InlineStack>
                  </Box>
                </li>
              ))}
            </ol>
          </Card>
        )}
        {list && list.length > 0 && (
          <Banner tone="info">
            <p>
              A segment offer is an automatic offer for the segment’s customers: give it tiers by cart value, and choose whether it combines
              with codes. Use “Create offer” on a segment.
            </p>
          </Banner>
        )}
      </BlockStack>
      <Modal
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        title={`Delete ${deleting?.name ?? 'segment'}?`}
        primaryAction={{content: 'Delete', destructive: true, onAction: () => deleting && remove(deleting)}}
        secondaryActions={[{content: 'Cancel', onAction: () => setDeleting(null)}]}
      >
        <Modal.Section>
          <Text as="p">A segment that an offer uses cannot be deleted: change the offer first.</Text>
        </Modal.Section>
      </Modal>
    </Page>
  );
}

