/**
 * One delivery attempt against a real receiver on 127.0.0.1: what it was
 * sent, and what the queue is told to do for each way a receiver answers,
 * hangs or is not there.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliver, retryDelaySeconds } from './delivery.js';

const secret = `whsec_${btoa('0123456789abcdef0123456789abcdef')}`;
const body = JSON.stringify({ type: 'participant.joined', room: 'standup' });

let server: Server;
let url: string;
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
const received: { headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: text });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
});
afterEach(() => {
  received.length = 0;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const attempt = (options: Partial<Parameters<typeof deliver>[1]> = {}) =>
  deliver({ id: 'msg_1', url, body }, { attempt: 1, secret, random: () => 1, ...options });

describe('a delivery attempt', () => {
  it('posts the message signed, and is delivered on a 2xx', async () => {
    answer = (_req, res) => res.writeHead(204).end();
    expect(await attempt()).toEqual({ kind: 'delivered', status: 204 });
    const [got] = received;
    expect(got!.body).toBe(body);
    expect(got!.headers['webhook-id']).toBe('msg_1');
    const headers = Object.fromEntries(Object.entries(got!.headers).map(([k, v]) => [k, String(v)]));
    expect(new Webhook(secret).verify(got!.body, headers)).toEqual(JSON.parse(body));
  });

  it('is tried again on 5xx, 408 and 429, never sooner than Retry-After', async () => {
    for (const status of [500, 502, 503, 408, 429]) {
      answer = (_req, res) => res.writeHead(status).end();
      expect(await attempt(), String(status)).toEqual({
        kind: 'retry',
        afterSeconds: 5,
        reason: `answered ${status}`,
      });
    }
    answer = (_req, res) => res.writeHead(503, { 'retry-after': '120' }).end();
    expect(await attempt()).toMatchObject({ kind: 'retry', afterSeconds: 120 });
    const inTenMinutes = new Date(Date.now() + 600_000).toUTCString();
    answer = (_req, res) => res.writeHead(429, { 'retry-after': inTenMinutes }).end();
    const later = await attempt();
    expect(later.kind === 'retry' && later.afterSeconds).toBeGreaterThanOrEqual(590);
  });

  it('is tried again when the receiver does not answer in time, or is not there', async () => {
    answer = () => undefined; // never answers
    expect(await attempt({ timeoutMs: 200 })).toEqual({
      kind: 'retry',
      afterSeconds: 5,
      reason: 'no answer within 200 ms',
    });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(
      await deliver({ id: 'msg_2', url: `http://127.0.0.1:${port}/`, body }, { attempt: 3, random: () => 1 }),
    ).toEqual({ kind: 'retry', afterSeconds: 20, reason: 'could not connect' });
  });

  it('is tried again when the receiver refuses the message or redirects it elsewhere (never followed)', async () => {
    answer = (_req, res) => res.writeHead(400).end();
    expect(await attempt()).toEqual({ kind: 'retry', afterSeconds: 5, reason: 'answered 400' });
    answer = (_req, res) => res.writeHead(302, { location: `${url}/elsewhere` }).end();
    expect(await attempt()).toEqual({
      kind: 'retry',
      afterSeconds: 5,
      reason: 'redirected (302): not followed',
    });
    expect(received.map((r) => r.headers['webhook-id'])).toEqual(['msg_1', 'msg_1']);
  });

  it('fails for good, sending nothing, when the secret cannot sign', async () => {
    expect(await attempt({ secret: 'not-a-secret' })).toEqual({
      kind: 'failed',
      reason: expect.stringMatching(/must start with whsec_/),
    });
    expect(received).toHaveLength(0);
  });

  it('is sent unsigned, with its id, when there is no secret', async () => {
    answer = (_req, res) => res.end();
    expect(await attempt({ secret: undefined })).toEqual({ kind: 'delivered', status: 200 });
    expect(received[0]!.headers['webhook-id']).toBe('msg_1');
    expect(received[0]!.headers['webhook-signature']).toBeUndefined();
  });
});

describe('retryDelaySeconds', () => {
  const cases: [string, number, number, number, number][] = [
    ['first retry: 5 s', 1, 0, 1, 5],
    ['doubling', 4, 0, 1, 40],
    ['capped at 15 min', 20, 0, 1, 900],
    ['a fifth of jitter, downwards', 1, 0, 0, 4],
    ['Retry-After wins when longer', 1, 90, 1, 90],
    ['but not past 15 min', 1, 7200, 1, 900],
    ['an attempt below 1 counts as the first', 0, 0, 1, 5],
  ];
  for (const [name, attempt, retryAfter, random, seconds] of cases)
    it(name, () => expect(retryDelaySeconds(attempt, retryAfter, () => random)).toBe(seconds));
});
