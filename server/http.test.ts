import { describe, expect, it } from 'vitest';
import { useWorker } from './test-support.js';

const worker = useWorker();

describe('worker routes', () => {
  it.each(['has%20space', 'a'.repeat(65), 'slash%2Fname', 'dot.name', '%E2%9C%8B'])(
    'answers 400 for the room name %s',
    async (name) => {
      const response = await fetch(`${worker().url}/parties/room/${name}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'invalid-room' } });
    },
  );

  it('answers 426 to a plain GET of a room', async () => {
    const response = await fetch(`${worker().url}/parties/room/standup`);
    expect(response.status).toBe(426);
  });

  it('serves the widget to pages on any origin', async () => {
    // meetkit.js imports its chunks as modules: cross-origin, they need CORS too.
    for (const path of ['/meetkit.js', '/meetkit-chunks/lobby-0123abcd.js']) {
      const response = await fetch(`${worker().url}${path}`, {
        headers: { Origin: 'http://somewhere.example' },
      });
      expect(response.headers.get('access-control-allow-origin'), path).toBe('http://somewhere.example');
    }
    const preflight = await fetch(`${worker().url}/api/rooms/standup`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://somewhere.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('GET');
    // A page told to slow down (429) may read when to try again.
    const media = await fetch(`${worker().url}/api/rooms/standup/media/session`, {
      method: 'POST',
      headers: { Origin: 'http://somewhere.example' },
    });
    expect(media.headers.get('access-control-expose-headers')).toContain('Retry-After');
  });

  it('describes a room without joining it', async () => {
    const response = await fetch(`${worker().url}/api/rooms/quiet-room`);
    expect(await response.json()).toMatchObject({
      room: 'quiet-room',
      participants: 0,
      lobby: 0,
      meeting: null,
    });
    expect((await fetch(`${worker().url}/api/rooms/bad%20room`)).status).toBe(400);
    expect((await fetch(`${worker().url}/api/nothing`)).status).toBe(404);
  });
});
