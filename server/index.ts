/**
 * The Worker: routes each room's WebSocket to its Durable Object, answers the
 * small HTTP API, and serves the widget and the demo from static assets.
 */
import { ROOM_NAME_PATTERN } from '../src/protocol/index.js';
import type { Env } from './env.js';
import { preflight, withCors } from './http/cors.js';
import { jsonError } from './http/json-error.js';
import { isOriginAllowed } from './http/origins.js';
import { ROOM_NAME_HEADER } from './room/room.js';

export { Room } from './room/room.js';

const ROOM_SOCKET_PATH = /^\/parties\/room\/([^/]*)\/?$/;
const ROOM_API_PATH = /^\/api\/rooms\/([^/]*)\/?$/;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const socketRoute = ROOM_SOCKET_PATH.exec(url.pathname);
    const apiRoute = ROOM_API_PATH.exec(url.pathname);

    if (socketRoute || url.pathname.startsWith('/api/')) {
      if (request.method === 'OPTIONS') return preflight(request);
      if (!isOriginAllowed(request, env.ALLOWED_ORIGINS)) {
        return jsonError(403, 'forbidden-origin', 'This site is not allowed to use these rooms');
      }
    }

    if (socketRoute) {
      const room = roomName(socketRoute[1]!);
      if (!room) return invalidRoom();
      if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
        return jsonError(426, 'upgrade-required', 'Rooms are reached over WebSocket');
      }
      const headers = new Headers(request.headers);
      headers.set(ROOM_NAME_HEADER, room);
      return env.Room.getByName(room).fetch(new Request(request, { headers }));
    }

    if (apiRoute) {
      const room = roomName(apiRoute[1]!);
      if (!room) return withCors(invalidRoom(), request);
      if (request.method !== 'GET') return withCors(jsonError(405, 'method-not-allowed', 'Use GET'), request);
      return withCors(Response.json(await env.Room.getByName(room).summary(room)), request);
    }
    if (url.pathname.startsWith('/api/'))
      return withCors(jsonError(404, 'not-found', 'No such API'), request);

    const asset = await env.ASSETS.fetch(request);
    // The widget is loaded as a module script by pages on any origin.
    return url.pathname.startsWith('/meetkit') ? withCors(asset, request) : asset;
  },
} satisfies ExportedHandler<Env>;

function roomName(raw: string): string | null {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return null;
  }
  return ROOM_NAME_PATTERN.test(name) ? name : null;
}

const invalidRoom = () => jsonError(400, 'invalid-room', 'Room names are 1-64 letters, digits, "-" or "_"');
