/** Join token lifetimes, and the mint tool (`npm run token`) that must not make tokens the Worker refuses. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { maxTokenTtlSeconds, signJoinToken, verifyJoinToken } from './auth/join-token.js';
import { projectRoot } from './local/dev/worker.js';

const SECRET = 'unit-test-secret-that-is-long-enough-for-hs256';
const HOUR = 3600;

describe('join token lifetime', () => {
  it('follows a configured maximum', async () => {
    const max = maxTokenTtlSeconds('3600');
    expect(max).toEqual({ ok: true, seconds: HOUR });
    const seconds = max.ok ? max.seconds : 0;
    const hour = await signJoinToken({ room: 'r', name: 'Ann', role: 'host' }, SECRET, HOUR);
    expect(await verifyJoinToken(hour, SECRET, 'r', seconds)).toMatchObject({ ok: true });
    const twoHours = await signJoinToken({ room: 'r', name: 'Ann', role: 'host' }, SECRET, 2 * HOUR);
    expect(await verifyJoinToken(twoHours, SECRET, 'r', seconds)).toEqual({
      ok: false,
      reason: 'The join token lives too long: this server takes tokens valid for at most 1 h',
    });
  });

  it('defaults to 24 h and names a bad setting', () => {
    expect(maxTokenTtlSeconds(undefined)).toEqual({ ok: true, seconds: 24 * HOUR });
    expect(maxTokenTtlSeconds('')).toEqual({ ok: true, seconds: 24 * HOUR });
    for (const bad of ['0', '-5', '1.5', 'a day', '1e9']) {
      expect(maxTokenTtlSeconds(bad)).toEqual({
        ok: false,
        reason: `JOIN_TOKEN_MAX_TTL_SECONDS must be whole seconds above 0, not "${bad}"`,
      });
    }
  });
});

describe('join token claims', () => {
  const unsigned = (claims: Record<string, unknown>) =>
    new SignJWT({ room: 'r', name: 'Ann', role: 'guest', ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('10 min')
      .sign(new TextEncoder().encode(SECRET));

  it('carries sub and picture when given, and leaves them out otherwise', async () => {
    const picture = 'https://cdn.example/ann.png';
    const full = await signJoinToken(
      { room: 'r', name: 'Ann', role: 'guest', sub: 'u-42', picture },
      SECRET,
      HOUR,
    );
    expect(await verifyJoinToken(full, SECRET, 'r')).toMatchObject({
      ok: true,
      claims: { sub: 'u-42', picture },
    });
    const plain = await signJoinToken({ room: 'r', name: 'Ann', role: 'guest' }, SECRET, HOUR);
    const check = await verifyJoinToken(plain, SECRET, 'r');
    expect(check.ok && check.claims).not.toHaveProperty('sub');
    expect(check.ok && check.claims).not.toHaveProperty('picture');
  });

  it.each([
    ['an empty sub', { sub: '' }, "The join token's sub must be 1-256 characters"],
    ['a sub of 257 characters', { sub: 'u'.repeat(257) }, "The join token's sub must be 1-256 characters"],
    ['a numeric sub', { sub: 42 }, "The join token's sub must be 1-256 characters"],
    [
      'a javascript: picture',
      { picture: 'javascript:alert(1)' },
      "The join token's picture is not an https: URL",
    ],
    [
      'an http: picture on a public host',
      { picture: 'http://cdn.example/a.png' },
      "The join token's picture",
    ],
    ['no name', { name: undefined }, 'The join token is missing room, name or role'],
  ])('names what is wrong with %s', async (_label, claims, reason) => {
    const check = await verifyJoinToken(await unsigned(claims), SECRET, 'r');
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toContain(reason);
  });

  it('takes a sub of 256 characters', async () => {
    expect(await verifyJoinToken(await unsigned({ sub: 'u'.repeat(256) }), SECRET, 'r')).toMatchObject({
      ok: true,
    });
  });
});

describe('npm run token', () => {
  const mint = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      [join(projectRoot, 'node_modules/tsx/dist/cli.mjs'), 'server/tools/mint-join-token.ts', ...args],
      { cwd: projectRoot, encoding: 'utf8', env: { ...process.env, JOIN_SECRET: SECRET, ...env } },
    );
  const room = ['--room', 'standup', '--name', 'Ann', '--role', 'host'];

  it('mints a token the Worker takes', async () => {
    const minted = mint([...room, '--ttl', String(24 * HOUR)]);
    expect(minted.stderr).toBe('');
    expect(minted.status).toBe(0);
    expect(await verifyJoinToken(minted.stdout.trim(), SECRET, 'standup')).toMatchObject({ ok: true });
  });

  it('mints a token with sub and picture', async () => {
    const picture = 'https://cdn.example/ann.png';
    const minted = mint([...room, '--sub', 'user-42', '--picture', picture]);
    expect(minted.stderr).toBe('');
    expect(await verifyJoinToken(minted.stdout.trim(), SECRET, 'standup')).toMatchObject({
      ok: true,
      claims: { sub: 'user-42', picture },
    });
  });

  it.each([
    [
      'an http: picture on a public host',
      ['--picture', 'http://cdn.example/a.png'],
      '--picture must be an https: URL',
    ],
    [
      'a picture with credentials',
      ['--picture', 'https://a:b@cdn.example/a.png'],
      '--picture must be an https: URL',
    ],
    ['an empty sub', ['--sub', ''], '--sub must be 1-256 characters'],
  ])('refuses %s', (_label, args, message) => {
    const minted = mint([...room, ...args]);
    expect(minted.status).toBe(2);
    expect(minted.stdout).toBe('');
    expect(minted.stderr).toContain(message);
  });

  it.each([
    ['longer than 24 h', ['--ttl', String(24 * HOUR + 1)], {}, 'at most 86400 (24 h)'],
    [
      'longer than the configured maximum',
      ['--ttl', '7200'],
      { JOIN_TOKEN_MAX_TTL_SECONDS: '3600' },
      'at most 3600 (1 h)',
    ],
    ['with a bad maximum', [], { JOIN_TOKEN_MAX_TTL_SECONDS: 'forever' }, 'must be whole seconds above 0'],
  ])('refuses a ttl %s', (_label, args, env, message) => {
    const minted = mint([...room, ...args], env);
    expect(minted.status).toBe(2);
    expect(minted.stdout).toBe('');
    expect(minted.stderr).toContain(message);
  });
});
