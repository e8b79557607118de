/**
 * The OpenAI Realtime client against a fake `fetch`: the exact GA request
 * shape, 201 + `Location`, OpenAI's error JSON as typed errors, and retries
 * only where they belong (counted in requests).
 */
import { describe, expect, it } from 'vitest';
import {
  callIdFrom,
  createOpenAiRealtimeClient,
  OpenAiError,
  realtimeSession,
  type OpenAiRealtimeOptions,
} from './openai-realtime.js';
import { parseClientEvent, parseServerEvent } from './realtime-events.js';

const KEY = 'sk-test-key';
const OFFER = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
const ANSWER = 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
const SESSION = realtimeSession({ model: 'gpt-realtime', instructions: 'Be brief.', voice: 'marin' });

type Reply = Response | 'hang';

/** A `fetch` that answers from a script, one reply per request, and keeps every request. */
function fakeFetch(...replies: Reply[]) {
  const requests: Request[] = [];
  const fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    requests.push(request);
    const reply = replies.shift() ?? new Response('script ran out', { status: 599 });
    if (reply !== 'hang') return Promise.resolve(reply);
    // Like a server that never answers: only the client's own timeout ends it.
    return new Promise((_resolve, reject) => {
      request.signal.addEventListener('abort', () => reject(request.signal.reason as Error));
    });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

function client(replies: Reply[], options: Partial<OpenAiRealtimeOptions> = {}) {
  const fake = fakeFetch(...replies);
  const sleeps: number[] = [];
  const openai = createOpenAiRealtimeClient({
    apiKey: KEY,
    fetch: fake.fetch,
    retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 2_000 },
    random: () => 0.5,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...options,
  });
  return { openai, requests: fake.requests, sleeps };
}

const created = (location = '/v1/realtime/calls/rtc_abc123') =>
  new Response(ANSWER, { status: 201, headers: { 'content-type': 'application/sdp', location } });

const openAiError = (status: number, error: { message: string; type: string; code?: string | null }) =>
  new Response(JSON.stringify({ error: { param: null, code: null, ...error } }), {
    status,
    headers: { 'content-type': 'application/json' },
  });

const rateLimited = () =>
  openAiError(429, { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' });
const serverError = (status = 500) =>
  openAiError(status, { message: 'The server had an error', type: 'server_error' });

async function failure(promise: Promise<unknown>): Promise<OpenAiError> {
  const error = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAiError);
  return error as OpenAiError;
}

describe('createCall', () => {
  it('posts the offer and the session as multipart form data with the key', async () => {
    const { openai, requests } = client([created()]);
    await openai.createCall({ sdp: OFFER, session: SESSION });

    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('https://api.openai.com/v1/realtime/calls');
    expect(request!.headers.get('authorization')).toBe(`Bearer ${KEY}`);
    expect(request!.headers.get('accept')).toBe('application/sdp');
    expect(request!.headers.get('content-type')).toMatch(/^multipart\/form-data; boundary=/);
    const form = await request!.formData();
    const partNames: string[] = [];
    form.forEach((_value, name) => partNames.push(name));
    expect(partNames).toEqual(['sdp', 'session']);
    expect(form.get('sdp')).toBe(OFFER);
    expect(JSON.parse(form.get('session') as string)).toEqual({
      type: 'realtime',
      model: 'gpt-realtime',
      instructions: 'Be brief.',
      // Push-to-talk: the model never decides on its own that a turn ended.
      audio: { input: { turn_detection: null }, output: { voice: 'marin' } },
    });
  });

  it('returns the SDP answer and the call id from Location', async () => {
    const { openai } = client([created()]);
    expect(await openai.createCall({ sdp: OFFER, session: SESSION })).toEqual({
      callId: 'rtc_abc123',
      sdp: ANSWER,
    });
  });

  it('uses the configured base URL', async () => {
    const { openai, requests } = client([created()], { baseUrl: 'http://127.0.0.1:9999/v1/' });
    await openai.createCall({ sdp: OFFER, session: SESSION });
    expect(requests[0]!.url).toBe('http://127.0.0.1:9999/v1/realtime/calls');
  });

  it('refuses a 201 without a call id or without an SDP answer', async () => {
    const noLocation = new Response(ANSWER, { status: 201, headers: { 'content-type': 'application/sdp' } });
    const error = await failure(client([noLocation]).openai.createCall({ sdp: OFFER, session: SESSION }));
    expect(error).toMatchObject({ kind: 'rejected', code: 'invalid_response', maybeCreated: true });

    const noSdp = new Response('', { status: 201, headers: { location: '/v1/realtime/calls/rtc_1' } });
    const empty = await failure(client([noSdp]).openai.createCall({ sdp: OFFER, session: SESSION }));
    expect(empty).toMatchObject({ kind: 'rejected', code: 'invalid_response' });
  });

  it('throws a bad key as an auth error at once', async () => {
    const { openai, requests } = client([
      openAiError(401, {
        message: 'Incorrect API key provided',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      }),
    ]);
    const error = await failure(openai.createCall({ sdp: OFFER, session: SESSION }));
    expect(error).toMatchObject({ kind: 'auth', status: 401, code: 'invalid_api_key' });
    expect(error.message).toContain('Incorrect API key provided');
    expect(requests).toHaveLength(1);
  });

  it('throws 403 as an auth error, without retrying', async () => {
    const { openai, requests } = client([
      openAiError(403, { message: 'Not allowed', type: 'invalid_request_error' }),
    ]);
    expect(await failure(openai.createCall({ sdp: OFFER, session: SESSION }))).toMatchObject({
      kind: 'auth',
      code: 'invalid_request_error',
    });
    expect(requests).toHaveLength(1);
  });

  it('throws other 4xx as rejected, without retrying', async () => {
    const { openai, requests } = client([
      openAiError(400, {
        message: "Missing required parameter: 'session.model'.",
        type: 'invalid_request_error',
        code: 'missing_required_parameter',
      }),
    ]);
    expect(await failure(openai.createCall({ sdp: OFFER, session: SESSION }))).toMatchObject({
      kind: 'rejected',
      status: 400,
      code: 'missing_required_parameter',
      maybeCreated: false,
    });
    expect(requests).toHaveLength(1);
  });

  it('sends again after 429, waiting its backoff, and succeeds', async () => {
    const { openai, requests, sleeps } = client([rateLimited(), rateLimited(), created()]);
    expect((await openai.createCall({ sdp: OFFER, session: SESSION })).callId).toBe('rtc_abc123');
    expect(requests).toHaveLength(3);
    // Full jitter (random 0.5) under a cap that doubles: 100 ms, then 200 ms.
    expect(sleeps).toEqual([50, 100]);
    // Each attempt carries the whole form again.
    for (const request of requests) expect((await request.formData()).get('sdp')).toBe(OFFER);
  });

  it('waits as long as Retry-After says, within the cap', async () => {
    const limited = openAiError(429, { message: 'Slow down', type: 'requests' });
    limited.headers.set('retry-after', '1');
    const { openai, sleeps } = client([limited, created()]);
    await openai.createCall({ sdp: OFFER, session: SESSION });
    expect(sleeps).toEqual([1_000]);
  });

  it('gives up after the bounded attempts as rate-limited', async () => {
    const { openai, requests } = client([
      rateLimited(),
      rateLimited(),
      rateLimited(),
      rateLimited(),
      created(),
    ]);
    expect(await failure(openai.createCall({ sdp: OFFER, session: SESSION }))).toMatchObject({
      kind: 'rate-limited',
      status: 429,
      code: 'rate_limit_exceeded',
      maybeCreated: false,
    });
    expect(requests).toHaveLength(4);
  });

  it('does not wait out an exhausted quota', async () => {
    const { openai, requests } = client([
      openAiError(429, {
        message: 'You exceeded your current quota',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      }),
    ]);
    expect(await failure(openai.createCall({ sdp: OFFER, session: SESSION }))).toMatchObject({
      kind: 'rejected',
      code: 'insufficient_quota',
    });
    expect(requests).toHaveLength(1);
  });

  it('sends again after 503 (no call was taken), up to the bound', async () => {
    const retried = client([serverError(503), created()]);
    expect((await retried.openai.createCall({ sdp: OFFER, session: SESSION })).callId).toBe('rtc_abc123');
    expect(retried.requests).toHaveLength(2);

    const exhausted = client([serverError(503), serverError(503), serverError(503), serverError(503)]);
    expect(await failure(exhausted.openai.createCall({ sdp: OFFER, session: SESSION }))).toMatchObject({
      kind: 'unavailable',
      status: 503,
      maybeCreated: false,
    });
    expect(exhausted.requests).toHaveLength(4);
  });

  it.each([500, 502, 504])('never repeats the offer after %i: a call may exist', async (status) => {
    const { openai, requests } = client([serverError(status), created()]);
    expect(await failure(openai.createCall({ sdp: OFFER, session: SESSION }))).toMatchObject({
      kind: 'unavailable',
      status,
      code: 'server_error',
      maybeCreated: true,
    });
    expect(requests).toHaveLength(1);
  });

  it('times out a request that gets no answer, and does not repeat it', async () => {
    const { openai, requests } = client(['hang', created()], { timeoutMs: 50 });
    const started = Date.now();
    expect(await failure(openai.createCall({ sdp: OFFER, session: SESSION }))).toMatchObject({
      kind: 'unavailable',
      status: 0,
      code: 'timeout',
      maybeCreated: true,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(requests).toHaveLength(1);
  });

  it('reads an error that is not JSON by its status', async () => {
    const { openai } = client([new Response('<html>Bad gateway</html>', { status: 502 })]);
    expect(await failure(openai.createCall({ sdp: OFFER, session: SESSION }))).toMatchObject({
      kind: 'unavailable',
      code: 'http_502',
    });
  });
});

describe('hangup', () => {
  it('posts to the call hangup URL with the key', async () => {
    const { openai, requests } = client([new Response(null, { status: 200 })]);
    expect(await openai.hangup('rtc_abc123')).toBe('ended');
    expect(requests).toHaveLength(1);
    expect(requests[0]!.method).toBe('POST');
    expect(requests[0]!.url).toBe('https://api.openai.com/v1/realtime/calls/rtc_abc123/hangup');
    expect(requests[0]!.headers.get('authorization')).toBe(`Bearer ${KEY}`);
  });

  it('sends again after 5xx and timeouts (hanging up twice is harmless)', async () => {
    const { openai, requests } = client([serverError(500), 'hang', new Response(null, { status: 200 })], {
      timeoutMs: 50,
    });
    expect(await openai.hangup('rtc_abc123')).toBe('ended');
    expect(requests).toHaveLength(3);
  });

  it('tells a call OpenAI does not know (already ended) from a hangup', async () => {
    const { openai } = client([
      serverError(500),
      openAiError(404, {
        message: 'Call not found',
        type: 'invalid_request_error',
        code: 'call_id_not_found',
      }),
    ]);
    expect(await openai.hangup('rtc_abc123')).toBe('not-found');
  });

  it('throws a bad key as auth, and gives up after the bounded attempts', async () => {
    const auth = client([openAiError(401, { message: 'Incorrect API key', type: 'invalid_request_error' })]);
    expect(await failure(auth.openai.hangup('rtc_1'))).toMatchObject({ kind: 'auth' });
    expect(auth.requests).toHaveLength(1);

    const down = client([serverError(), serverError(), serverError(), serverError(), serverError()]);
    expect(await failure(down.openai.hangup('rtc_1'))).toMatchObject({ kind: 'unavailable', status: 500 });
    expect(down.requests).toHaveLength(4);
  });
});

describe('sideband', () => {
  it('names the call on the realtime WebSocket URL', () => {
    const { openai } = client([]);
    expect(openai.sidebandUrl('rtc_abc123')).toBe('wss://api.openai.com/v1/realtime?call_id=rtc_abc123');
    expect(openai.sidebandRequest('rtc_abc123')).toEqual({
      url: 'https://api.openai.com/v1/realtime?call_id=rtc_abc123',
      headers: { authorization: `Bearer ${KEY}`, upgrade: 'websocket' },
    });
  });

  it('uses ws:// for a local http:// base', () => {
    const { openai } = client([], { baseUrl: 'http://127.0.0.1:8790/v1' });
    expect(openai.sidebandUrl('rtc_1')).toBe('ws://127.0.0.1:8790/v1/realtime?call_id=rtc_1');
  });
});

describe('callIdFrom', () => {
  it.each([
    ['/v1/realtime/calls/rtc_abc123', 'rtc_abc123'],
    ['https://api.openai.com/v1/realtime/calls/rtc_abc123', 'rtc_abc123'],
    ['/v1/realtime/calls/rtc_abc123/', 'rtc_abc123'],
    ['/v1/realtime/other/rtc_abc123', null],
    [null, null],
  ])('%s → %s', (location, callId) => {
    expect(callIdFrom(location)).toBe(callId);
  });
});

describe('sideband events', () => {
  it('parses the server events Meetkit uses', () => {
    const delta = parseServerEvent(
      JSON.stringify({
        type: 'response.output_audio_transcript.delta',
        event_id: 'event_1',
        response_id: 'resp_1',
        item_id: 'item_1',
        output_index: 0,
        content_index: 0,
        delta: 'Hel',
        obfuscation: 'abc',
      }),
    );
    expect(delta).toMatchObject({ type: 'response.output_audio_transcript.delta', delta: 'Hel' });
    const error = parseServerEvent(
      JSON.stringify({
        type: 'error',
        event_id: 'event_2',
        error: { type: 'invalid_request_error', code: 'invalid_value', message: 'Bad', param: null },
      }),
    );
    expect(error).toMatchObject({ type: 'error', error: { code: 'invalid_value', message: 'Bad' } });
  });

  it('ignores events it does not use, malformed ones and non-JSON, without throwing', () => {
    expect(parseServerEvent('{"type":"rate_limits.updated","event_id":"e","rate_limits":[]}')).toMatchObject({
      type: 'ignored',
      eventType: 'rate_limits.updated',
    });
    expect(parseServerEvent('{"type":"response.done","event_id":"e"}')).toMatchObject({
      type: 'ignored',
      eventType: 'response.done',
      reason: expect.stringContaining('response') as string,
    });
    expect(parseServerEvent('not json')).toMatchObject({ type: 'ignored', eventType: undefined });
    expect(parseServerEvent('null')).toMatchObject({ type: 'ignored' });
  });

  it('accepts the push-to-talk session update and says what is wrong with a bad client event', () => {
    expect(parseClientEvent(JSON.stringify({ type: 'session.update', session: SESSION }))).toMatchObject({
      ok: true,
      event: { session: { audio: { input: { turn_detection: null } } } },
    });
    expect(parseClientEvent('{"type":"input_audio_buffer.commit","event_id":"c1"}')).toMatchObject({
      ok: true,
    });
    expect(parseClientEvent('{"type":"session.update","event_id":"u1","session":{}}')).toMatchObject({
      ok: false,
      eventType: 'session.update',
      eventId: 'u1',
      reason: expect.stringContaining('session.type') as string,
    });
  });
});
