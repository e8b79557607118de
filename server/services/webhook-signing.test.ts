import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { webhookHeaders, webhookSecretProblem } from './webhook-signing.js';

const secret = `whsec_${btoa('0123456789abcdef0123456789abcdef')}`;
const other = `whsec_${btoa('fedcba9876543210fedcba9876543210')}`;
const body = JSON.stringify({ type: 'meeting.ended', room: 'standup', durationMs: 61_000 });

/** What a site owner's receiver does, with the reference library. */
const receive = (key: string, headers: Record<string, string>, payload = body) =>
  new Webhook(key).verify(payload, headers);

describe('webhook signatures (Standard Webhooks)', () => {
  it('verify with the secret, as a receiver checks them, and carry the event id', () => {
    const headers = webhookHeaders(secret, 'evt_1', body, new Date());
    expect(receive(secret, headers)).toEqual(JSON.parse(body));
    expect(headers['webhook-id']).toBe('evt_1');
  });

  it('fail with another secret, or a body changed on the way', () => {
    const headers = webhookHeaders(secret, 'evt_2', body, new Date());
    expect(() => receive(other, headers)).toThrow(WebhookVerificationError);
    expect(() => receive(secret, headers, body.replace('61000', '1'))).toThrow(WebhookVerificationError);
    expect(() => receive(secret, { ...headers, 'webhook-id': 'evt_3' })).toThrow(WebhookVerificationError);
  });

  it('check the timestamp: a delivery signed ten minutes ago (or ahead) is refused, four minutes ago is not', () => {
    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    expect(() => receive(secret, webhookHeaders(secret, 'evt_4', body, minutes(-10)))).toThrow(/too old/i);
    expect(() => receive(secret, webhookHeaders(secret, 'evt_5', body, minutes(10)))).toThrow(/too new/i);
    expect(receive(secret, webhookHeaders(secret, 'evt_6', body, minutes(-4)))).toEqual(JSON.parse(body));
  });

  it('sign a retry with the same id and its own time', () => {
    const first = webhookHeaders(secret, 'evt_7', body, new Date(Date.now() - 60_000));
    const retry = webhookHeaders(secret, 'evt_7', body, new Date());
    expect(retry['webhook-id']).toBe(first['webhook-id']);
    expect(retry['webhook-timestamp']).not.toBe(first['webhook-timestamp']);
    expect(receive(secret, retry)).toEqual(JSON.parse(body));
  });

  const bad: [string, string | undefined, RegExp][] = [
    ['missing', undefined, /must start with whsec_/],
    ['without the prefix', btoa('0123456789abcdef0123456789abcdef'), /must start with whsec_/],
    ['not base64', 'whsec_not base64!', /not base64/],
    ['too short', `whsec_${btoa('short')}`, /too short/],
  ];
  for (const [name, value, message] of bad) {
    it(`refuses a secret that is ${name}, saying what is wrong`, () => {
      expect(webhookSecretProblem(value)).toMatch(message);
      expect(() => webhookHeaders(value ?? '', 'evt', body, new Date())).toThrow(message);
    });
  }
  it('takes a good secret', () => expect(webhookSecretProblem(secret)).toBeNull());
});
