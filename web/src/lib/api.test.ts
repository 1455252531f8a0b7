import {describe, expect, it} from 'vitest';

import {ApiClient, ApiError, filenameOf, withQuery} from './api';

function recorder(responses: Response[]) {
  const calls: {url: string; init: RequestInit}[] = [];
  const fetcher = async (url: string, init?: RequestInit) => {
    calls.push({url, init: init ?? {}});
    const r = responses.shift();
    if (!r) throw new Error('no more responses');
    return r;
  };
  return {calls, fetcher};
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === null ? null : JSON.stringify(body), {status, headers: {'Content-Type': 'application/json', ...headers}});

describe('ApiClient', () => {
  it('sends the ID token as a bearer token', async () => {
    const {calls, fetcher} = recorder([json(200, {offers: []})]);
    const client = new ApiClient(async () => 'tok-1', fetcher);
    expect(await client.get('/api/offers')).toEqual({offers: []});
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBe('Bearer tok-1');
  });

  it('retries once with a fresh token when the session is invalid', async () => {
    const {calls, fetcher} = recorder([
      json(401, {error: 'missing or invalid session token'}, {'X-Shopify-Retry-Invalid-Session-Request': '1'}),
      json(200, {ok: true}),
    ]);
    let n = 0;
    const client = new ApiClient(async () => `tok-${++n}`, fetcher);
    expect(await client.post('/api/offers/o1/pause')).toEqual({ok: true});
    expect(calls.map((c) => (c.init.headers as Record<string, string>).Authorization)).toEqual(['Bearer tok-1', 'Bearer tok-2']);
    expect(calls[1].init.method).toBe('POST');
  });

  it('does not retry a 401 without the header, nor twice', async () => {
    const retry = {'X-Shopify-Retry-Invalid-Session-Request': '1'};
    const {calls, fetcher} = recorder([json(401, {error: 'no'}), json(401, {error: 'no'}, retry), json(401, {error: 'still no'}, retry)]);
    const client = new ApiClient(async () => 'tok', fetcher);
    await expect(client.get('/api/a')).rejects.toMatchObject({status: 401});
    await expect(client.get('/api/b')).rejects.toMatchObject({status: 401, message: 'still no'});
    expect(calls.length).toBe(3);
  });

  it('sends JSON bodies, If-Match and the query', async () => {
    const {calls, fetcher} = recorder([json(200, {id: 'o1'})]);
    const client = new ApiClient(async () => 't', fetcher);
    await client.put('/api/offers/o1', {version: 3, offer: {name: 'x'}}, {ifMatch: 3, query: {a: '1', b: ['x', 'y'], c: undefined}});
    expect(calls[0].url).toBe('/api/offers/o1?a=1&b=x&b=y');
    const h = calls[0].init.headers as Record<string, string>;
    expect(h['If-Match']).toBe('"3"');
    expect(h['Content-Type']).toBe('application/json');
    expect(calls[0].init.body).toBe('{"version":3,"offer":{"name":"x"}}');
  });

  it('turns error answers into ApiError with the problems', async () => {
    const {fetcher} = recorder([
      json(422, {error: 'validation failed', problems: [{path: 'value.percentage', message: 'is required'}]}),
      new Response('<html>', {status: 502}),
    ]);
    const client = new ApiClient(async () => 't', fetcher);
    const err = (await client.post('/api/offers', {}).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.problems).toEqual([{path: 'value.percentage', message: 'is required'}]);
    const err2 = (await client.get('/api/offers').catch((e: unknown) => e)) as ApiError;
    expect(err2.message).toBe('The request failed (502)');
  });

  it('answers 204 with nothing', async () => {
    const {fetcher} = recorder([new Response(null, {status: 204})]);
    expect(await new ApiClient(async () => 't', fetcher).delete('/api/offers/o1')).toBeUndefined();
  });

  it('downloads files with the token', async () => {
    const {calls, fetcher} = recorder([
      new Response('code\nA\n', {status: 200, headers: {'Content-Disposition': 'attachment; filename="codes-o1.csv"'}}),
    ]);
    const {blob, filename} = await new ApiClient(async () => 't', fetcher).blob('/api/offers/o1/codes.csv');
    expect(await blob.text()).toBe('code\nA\n');
    expect(filename).toBe('codes-o1.csv');
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBe('Bearer t');
  });
});

describe('helpers', () => {
  it('builds queries', () => {
    expect(withQuery('/x', {})).toBe('/x');
    expect(withQuery('/x?a=1', {b: 2})).toBe('/x?a=1&b=2');
  });
  it('reads file names', () => {
    expect(filenameOf('attachment; filename="offers-2026-01-01-2026-01-30.csv"')).toBe('offers-2026-01-01-2026-01-30.csv');
    expect(filenameOf(null)).toBeNull();
  });
});
