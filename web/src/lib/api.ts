// The admin API client. Every request carries "Authorization: Bearer <ID token>", the token
// App Bridge gives (shopify.idToken(): the platform's App Bridge, or the local stand-in's
// shim). A 401 with X-Shopify-Retry-Invalid-Session-Request: 1 means the token was refused
// (expired, say): the request is sent once more with a fresh token.

import type {FieldError} from './types';

export const RETRY_HEADER = 'X-Shopify-Retry-Invalid-Session-Request';

/** ApiError is a non-2xx answer: its status, the server's message and, for a 422, the fields. */
export class ApiError extends Error {
  readonly status: number;
  readonly problems: FieldError[];
  readonly body: unknown;

  constructor(status: number, message: string, problems: FieldError[] = [], body: unknown = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.problems = problems;
    this.body = body;
  }
}

export type TokenSource = () => Promise<string>;
export type Fetcher = (input: string, init?: RequestInit) => Promise<Response>;

export interface RequestOptions {
  body?: unknown; // JSON-encoded unless it is a string, Blob or File
  contentType?: string;
  ifMatch?: string | number;
  signal?: AbortSignal;
  query?: Record<string, string | number | undefined | null | (string | number)[]>;
}

/** appBridgeToken reads a fresh ID token from App Bridge's global. */
export const appBridgeToken: TokenSource = async () => {
  const shopify = (window as unknown as {shopify?: {idToken?: () => Promise<string>}}).shopify;
  if (!shopify?.idToken) {
    if (import.meta.env.DEV) return devToken();
    throw new ApiError(0, 'App Bridge is not loaded: open Regulars from your shop admin.');
  }
  return shopify.idToken();
};

/**
 * devToken is for `npm run dev` only (removed from builds): the page is not framed by an admin,
 * so it asks the local platform stand-in (proxied by Vite) for an ID token, as the stand-in's
 * admin page does for its frame.
 */
async function devToken(): Promise<string> {
  const shop = document.querySelector<HTMLMetaElement>('meta[name="regulars-shop"]')?.content;
  const res = await fetch(`/shops/${encodeURIComponent(shop ?? '')}/admin/id-token`, {method: 'POST'});
  if (!res.ok) throw new ApiError(res.status, 'No ID token from the platform stand-in: is `make run` running?');
  return ((await res.json()) as {token: string}).token;
}

export function withQuery(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      for (const v of value) params.append(key, String(v));
    } else {
      params.append(key, String(value));
    }
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

export class ApiClient {
  constructor(
    private readonly token: TokenSource = appBridgeToken,
    private readonly fetcher: Fetcher = (input, init) => fetch(input, init),
  ) {}

  /** raw sends the request with the ID token (retrying once on an invalid session) and returns the response, whatever its status. */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const url = withQuery(path, opts.query);
    const headers: Record<string, string> = {Accept: 'application/json'};
    let body: BodyInit | undefined;
    if (opts.body !== undefined) {
      if (typeof opts.body === 'string' || opts.body instanceof Blob) {
        body = opts.body;
        headers['Content-Type'] = opts.contentType ?? 'text/plain';
      } else {
        body = JSON.stringify(opts.body);
        headers['Content-Type'] = 'application/json';
      }
    }
    if (opts.ifMatch !== undefined) headers['If-Match'] = `"${opts.ifMatch}"`;
    const send = async () => {
      const token = await this.token();
      return this.fetcher(url, {
        method,
        body,
        signal: opts.signal,
        credentials: 'same-origin',
        headers: {...headers, Authorization: `Bearer ${token}`},
      });
    };
    let res = await send();
    if (res.status === 401 && res.headers.get(RETRY_HEADER) === '1') {
      res = await send();
    }
    return res;
  }

  /** json sends the request and decodes the JSON answer; a non-2xx answer throws ApiError. */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, opts);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let data: unknown = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) throw errorFrom(res.status, data);
    return data as T;
  }

  get<T>(path: string, opts?: RequestOptions) {
    return this.json<T>('GET', path, opts);
  }
  post<T>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.json<T>('POST', path, {...opts, body});
  }
  put<T>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.json<T>('PUT', path, {...opts, body});
  }
  delete<T>(path: string, opts?: RequestOptions) {
    return this.json<T>('DELETE', path, opts);
  }

  /** blob fetches a file (a CSV export) with the ID token; a non-2xx answer throws ApiError. */
  async blob(path: string, opts?: RequestOptions): Promise<{blob: Blob; filename: string | null}> {
    const res = await this.raw('GET', path, opts);
    if (!res.ok) {
      const data = await res.json().catch(() => null);
      throw errorFrom(res.status, data);
    }
    return {blob: await res.blob(), filename: filenameOf(res.headers.get('Content-Disposition'))};
  }
}

/** errorFrom turns an error answer ({"error", "problems"}) into an ApiError. */
export function errorFrom(status: number, data: unknown): ApiError {
  const body = (data ?? {}) as {error?: unknown; problems?: unknown};
  const message =
    typeof body.error === 'string' && body.error
      ? body.error
      : status === 0
        ? 'The network request failed'
        : `The request failed (${status})`;
  const problems = Array.isArray(body.problems)
    ? (body.problems as unknown[]).filter(
        (p): p is FieldError => !!p && typeof (p as FieldError).path === 'string' && typeof (p as FieldError).message === 'string',
      )
    : [];
  return new ApiError(status, message, problems, data);
}

/** filenameOf reads the file name of a Content-Disposition header. */
export function filenameOf(header: string | null): string | null {
  if (!header) return null;
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header);
  return m ? decodeURIComponent(m[1]) : null;
}

/** messageOf is what to tell the merchant about a failed request. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'Your session expired: reload the page from your shop admin.';
    if (err.status === 404) return 'Not found: it may have been deleted.';
    return err.message.charAt(0).toUpperCase() + err.message.slice(1);
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** api is the client the pages use. */
export const api = new ApiClient();

/** saveBlob offers a downloaded file to the merchant: a temporary link to an object URL. */
export function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
