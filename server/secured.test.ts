import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { signJoinToken } from './auth/join-token.js';
import { connect, freshRoom, useWorker } from './test-support.js';

const SECRET = 'test-secret-that-is-long-enough-for-hs256';
const ALLOWED = 'http://allowed.example';
const worker = useWorker({
  vars: { JOIN_SECRET: SECRET, ALLOWED_ORIGINS: `${ALLOWED}, http://also.example/` },
});

const token = (room: string, name: string, role: 'host' | 'guest', ttl = 600, secret = SECRET) =>
  signJoinToken({ room, name, role }, secret, ttl);
const DAY = 24 * 3600;
const now = () => Math.floor(Date.now() / 1000);

/** A token as another backend might mint it, with its own issue time. */
const tokenIssuedAt = (room: string, issuedAt: number, expiresAt: number) =>
  new SignJWT({ room, name: 'Ann', role: 'host' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(SECRET));

describe('join tokens', () => {
  it('takes name and role from the token, not from the message', async () => {
    const room = freshRoom('token');
    const guest = await connect(worker, room, { token: await token(room, 'Gail', 'guest') });
    guest.send({ type: 'join', name: 'I am the boss' });
    const joinedGuest = await guest.next('participant-joined');
    // First in the room, but the token says guest.
    expect(joinedGuest.participant).toMatchObject({ name: 'Gail', role: 'guest' });
    guest.send({ type: 'end-meeting' });
    expect(await guest.next('error')).toMatchObject({ code: 'forbidden' });

    const host = await connect(worker, room, { token: await token(room, 'Hal', 'host') });
    const hostParticipant = await host.join('whatever');
    expect(hostParticipant).toMatchObject({ name: 'Hal', role: 'host' });
    guest.send({ type: 'update', changes: { microphone: true } });
    await host.next('participant-updated', (m) => m.changes.microphone === true);
    host.send({ type: 'mute-participant', id: joinedGuest.participant.id });
    expect(await guest.next('participant-moderated')).toMatchObject({
      by: hostParticipant.id,
      action: 'mute',
    });
  });

  it.each([
    ['no token', (_room: string) => Promise.resolve(undefined), 'needs a join token'],
    ['an expired token', (room: string) => token(room, 'Ann', 'host', -60), 'expired'],
    ['a token for another room', (_room: string) => token('elsewhere', 'Ann', 'host'), 'another room'],
    [
      'a token signed with another secret',
      (room: string) => token(room, 'Ann', 'host', 600, 'not-the-secret-at-all-but-long'),
      'not valid',
    ],
    ['garbage', (_room: string) => Promise.resolve('not.a.jwt'), 'not valid'],
    [
      'a token valid for 100 years',
      (room: string) => token(room, 'Ann', 'host', 100 * 365 * DAY),
      'at most 24 h',
    ],
    [
      'a token issued two days ago that lives three',
      (room: string) => tokenIssuedAt(room, now() - 2 * DAY, now() + DAY),
      'lives too long',
    ],
  ])('refuses %s with a typed error and a 1008 close', async (_label, makeToken, reason) => {
    const room = freshRoom('bad-token');
    const socket = await connect(worker, room, { token: await makeToken(room), heartbeatMs: 0 });
    const error = await socket.next('error');
    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain(reason);
    expect((await socket.closed).code).toBe(1008);
  });
});

describe('token lifetime', () => {
  it('takes a token that lives exactly the 24 h the server allows', async () => {
    const room = freshRoom('day-token');
    const socket = await connect(worker, room, { token: await token(room, 'Ann', 'host', DAY) });
    expect(await socket.next('snapshot')).toMatchObject({ room });
  });
});

describe('room summary', () => {
  const summary = (room: string, init?: RequestInit, query = '') =>
    fetch(`${worker().url}/api/rooms/${room}${query}`, init);

  it.each([
    ['no token', async (_room: string) => summary(_room), 'needs a join token'],
    [
      'a token for another room',
      async (room: string) =>
        summary(room, { headers: { Authorization: `Bearer ${await token('elsewhere', 'Ann', 'host')}` } }),
      'another room',
    ],
    [
      'a token valid for 100 years',
      async (room: string) =>
        summary(room, {}, `?token=${await token(room, 'Ann', 'host', 100 * 365 * DAY)}`),
      'at most 24 h',
    ],
  ])('answers 401 to %s', async (_label, ask, reason) => {
    const response = await ask(freshRoom('summary'));
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('unauthorized');
    expect(body.error.message).toContain(reason);
  });

  it('describes the room to a holder of a token for it, in a header or the query', async () => {
    const room = freshRoom('summary-ok');
    const guest = await token(room, 'Gail', 'guest');
    const byHeader = await summary(room, { headers: { Authorization: `Bearer ${guest}` } });
    expect(byHeader.status).toBe(200);
    expect(await byHeader.json()).toMatchObject({ room, participants: 0 });
    const byQuery = await summary(room, {}, `?token=${guest}`);
    expect(await byQuery.json()).toMatchObject({ room, participants: 0 });
  });
});

describe('allowed origins', () => {
  it('refuses rooms and the API to other origins with 403', async () => {
    const room = freshRoom('origin');
    await expect(connect(worker, room, { origin: 'http://evil.example' })).rejects.toThrow('403');
    const api = await fetch(`${worker().url}/api/rooms/${room}`, {
      headers: { Origin: 'http://evil.example' },
    });
    expect(api.status).toBe(403);
    expect(await api.json()).toMatchObject({ error: { code: 'forbidden-origin' } });
  });

  it('lets listed origins in, with CORS for them', async () => {
    const room = freshRoom('origin-ok');
    const socket = await connect(worker, room, {
      origin: 'http://also.example',
      token: await token(room, 'Ann', 'host'),
    });
    expect(await socket.next('snapshot')).toMatchObject({ room });
    const api = await fetch(`${worker().url}/api/rooms/${room}`, {
      headers: { Origin: ALLOWED, Authorization: `Bearer ${await token(room, 'Ann', 'host')}` },
    });
    expect(api.status).toBe(200);
    expect(api.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });
});
