import {Page} from '@shopify/polaris';

import {Empty} from '../components/Feedback';

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <Empty heading="There is no page here" action={{content: 'Go to the offers', url: '/offers'}}>
        The link may be out of date.
      </Empty>
    </Page>
  );
}
