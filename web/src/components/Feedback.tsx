import {Banner, BlockStack, Box, Button, Card, EmptyState, InlineStack, List, SkeletonBodyText, SkeletonDisplayText, Text} from '@shopify/polaris';
import {DeleteIcon} from '@shopify/polaris-icons';
import type {ReactNode} from 'react';

import {messageOf} from '../lib/api';
import {humanPath, sentence} from '../lib/fieldErrors';
import type {FieldError} from '../lib/types';

/** LoadingCard stands in for a card whose data is on its way. */
export function LoadingCard({label = 'Loading'}: {label?: string}) {
  return (
    <Card>
      <div role="status" aria-live="polite" aria-busy="true">
        <span className="regulars-visually-hidden">{label}…</span>
        <BlockStack gap="400">
          <SkeletonDisplayText size="small" />
          <SkeletonBodyText lines={4} />
        </BlockStack>
      </div>
    </Card>
  );
}

/** ErrorBanner says what failed, with a retry when one may help. */
export function ErrorBanner({error, title, onRetry}: {error: unknown; title?: string; onRetry?: () => void}) {
  return (
    <Banner
      tone="critical"
      title={title ?? 'Something went wrong'}
      action={onRetry ? {content: 'Try again', onAction: onRetry} : undefined}
    >
      <p>{messageOf(error)}</p>
    </Banner>
  );
}

// A small drawing for empty states: a price tag.
const EMPTY_IMAGE =
  'data:image/svg+xml,' +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" width="226" height="160" viewBox="0 0 226 160">' +
      '<rect x="40" y="30" width="146" height="100" rx="14" fill="#e3f1df"/>' +
      '<path d="M70 60h50l36 30-36 30H70z" fill="#95c9b4"/>' +
      '<circle cx="86" cy="90" r="8" fill="#fff"/></svg>',
  );

/** Empty is a card with nothing in it yet, and what to do about it. */
export function Empty({
  heading,
  children,
  action,
}: {
  heading: string;
  children?: ReactNode;
  action?: {content: string; url?: string; onAction?: () => void};
}) {
  return (
    <Card>
      <EmptyState heading={heading} image={EMPTY_IMAGE} action={action}>
        {typeof children === 'string' ? <Text as="p">{children}</Text> : children}
      </EmptyState>
    </Card>
  );
}

/** ProblemList lists the server's problems that no field on the page could show. */
export function ProblemList({problems}: {problems: FieldError[]}) {
  if (problems.length === 0) return null;
  return (
    <List>
      {problems.map((p) => (
        <List.Item key={p.path + p.message}>
          {humanPath(p.path)}: {sentence(p.message)}
        </List.Item>
      ))}
    </List>
  );
}

/** RemovableItem is one entry of an editable list (a tier, a cart line): a titled box with a remove button. */
export function RemovableItem({
  title,
  canRemove,
  onRemove,
  children,
}: {
  title: string;
  canRemove: boolean;
  onRemove: () => void;
  children: ReactNode;
}) {
  return (
    <Box padding="300" borderWidth="025" borderColor="border" borderRadius="200">
      <BlockStack gap="200">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h3" variant="headingSm">
            {title}
          </Text>
          <Button icon={DeleteIcon} variant="tertiary" accessibilityLabel={`Remove ${title.toLowerCase()}`} disabled={!canRemove} onClick={onRemove} />
        </InlineStack>
        {children}
      </BlockStack>
    </Box>
  );
}
