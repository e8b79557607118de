/** ICE servers handed to browsers: TURN when configured, STUN otherwise, none for a local SFU. */
import { describe, expect, it } from 'vitest';
import { CallsError } from './errors.js';
import { CLOUDFLARE_STUN, generateTurnServers, iceServersFor, isLocalCallsUrl } from './ice-servers.js';

const turnAnswer = {
  iceServers: [
    { urls: ['stun:stun.cloudflare.com:3478', 'stun:stun.cloudflare.com:53'] },
    {
      urls: [
        'turn:turn.cloudflare.com:3478?transport=udp',
        'turn:turn.cloudflare.com:53?transport=udp',
        'turns:turn.cloudflare.com:443?transport=tcp',
      ],
      username: 'user',
      credential: 'secret',
    },
  ],
};

describe('ICE servers', () => {
  it('asks Cloudflare TURN for short-lived credentials and drops port 53', async () => {
    const requests: { url: string; init: RequestInit }[] = [];
    const servers = await generateTurnServers({
      keyId: 'key-id',
      apiToken: 'api-token',
      ttl: 999_999,
      fetch: (url, init) => {
        requests.push({ url: url as string, init: init! });
        return Promise.resolve(Response.json(turnAnswer, { status: 201 }));
      },
    });
    expect(requests[0]!.url).toBe(
      'https://rtc.live.cloudflare.com/v1/turn/keys/key-id/credentials/generate-ice-servers',
    );
    expect(new Headers(requests[0]!.init.headers).get('authorization')).toBe('Bearer api-token');
    expect(JSON.parse(requests[0]!.init.body as string)).toEqual({ ttl: 172_800 });
    expect(servers).toEqual([
      { urls: ['stun:stun.cloudflare.com:3478'] },
      {
        urls: ['turn:turn.cloudflare.com:3478?transport=udp', 'turns:turn.cloudflare.com:443?transport=tcp'],
        username: 'user',
        credential: 'secret',
      },
    ]);
  });

  it('reports a failing TURN service as a typed error', async () => {
    const failing = generateTurnServers({
      keyId: 'k',
      apiToken: 't',
      fetch: () => Promise.resolve(Response.json({ error: 'nope' }, { status: 503 })),
    });
    await expect(failing).rejects.toBeInstanceOf(CallsError);
    await expect(failing).rejects.toMatchObject({ status: 503, kind: 'busy' });
  });

  it('gives STUN without TURN, and nothing at all for a local SFU', async () => {
    expect(await iceServersFor({})).toEqual([CLOUDFLARE_STUN]);
    expect(await iceServersFor({ callsApiUrl: 'http://127.0.0.1:8789/v1' })).toEqual([]);
    expect(isLocalCallsUrl('https://rtc.live.cloudflare.com/v1')).toBe(false);
  });
});
