// Polaris links and buttons with a url navigate inside the app (React Router) when the url is
// the app's own; other urls are ordinary links.

import type {ReactNode} from 'react';
import {Link} from 'react-router';

interface LinkLikeProps {
  url: string;
  external?: boolean;
  children?: ReactNode;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

export function LinkAdapter({url, external, children, ...rest}: LinkLikeProps) {
  if (external || /^(https?:|mailto:|blob:)/.test(url)) {
    return (
      <a href={url} target={external ? '_blank' : undefined} rel={external ? 'noopener noreferrer' : undefined} {...rest}>
        {children}
      </a>
    );
  }
  return (
    <Link to={url} {...rest}>
      {children}
    </Link>
  );
}
