/**
 * The Worker: routes each room's WebSocket to its Durable Object, answers the
 * small HTTP API, and serves the widget and the demo from static assets.
 */
import { feedback, media, PROTOCOL_VERSION, ROOM_NAME_PATTERN } from '../src/protocol/index.js';
import { bearerToken, roomAccess } from './auth/room-access.js';
import type { Env } from './env.js';
import { preflight, withCors } from './http/cors.js';
import { jsonError } from './http/json-error.js';
import { readLimitedText } from './http/limited-body.js';
import { isOriginAllowed } from './http/origins.js';
import { refuseSocket } from './http/refuse-socket.js';
import { forwardTo } from './room/forwarded.js';
import { HISTORY_MAX_PAGE_SIZE, HISTORY_PAGE_SIZE } from './room/services.js';
import { handleDeliveries } from './services/deliveries.js';

export { Room } from './room/room.js';

const ROOM_SOCKET_PATH = /^\/parties\/room\/([^/]*)\/?$/;
const ROOM_API_PATH = /^\/api\/rooms\/([^/]*)\/?$/;
const MEDIA_API_PATH = /^\/api\/rooms\/([^/]*)\/media\/([a-z]+)$/;
const FEEDBACK_API_PATH = /^\/api\/rooms\/([^/]*)\/feedback$/;
const HISTORY_API_PATH = /^\/api\/rooms\/([^/]*)\/meetings$/;
/** SDP offers are a few KiB; nothing the media API takes comes near this. */
const MAX_MEDIA_BODY_BYTES = 128 * 1024;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const socketRoute = ROOM_SOCKET_PATH.exec(url.pathname);
    const apiRoute = ROOM_API_PATH.exec(url.pathname);
    const mediaRoute = MEDIA_API_PATH.exec(url.pathname);
    const feedbackRoute = FEEDBACK_API_PATH.exec(url.pathname);
    const historyRoute = HISTORY_API_PATH.exec(url.pathname);

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
      // Refused here, never in the room: a refused socket must not create its Durable Object.
      if (url.searchParams.get('v') !== String(PROTOCOL_VERSION)) {
        return refuseSocket('protocol-version', 'Meetkit on this page is out of date: please reload');
      }
      const access = await roomAccess(env, room, url.searchParams.get('token'));
      if (!access.ok) return refuseSocket('unauthorized', access.reason);
      return env.Room.getByName(room).fetch(
        forwardTo(request, {
          room,
          identity: access.identity,
          clientAddress: request.headers.get('CF-Connecting-IP'),
        }),
      );
    }

    if (mediaRoute)
      return withCors(await mediaRequest(request, env, mediaRoute[1]!, mediaRoute[2]!), request);
    if (feedbackRoute) return withCors(await feedbackRequest(request, env, feedbackRoute[1]!), request);
    if (historyRoute) return withCors(await historyRequest(request, env, historyRoute[1]!), request);

    if (apiRoute) {
      const room = roomName(apiRoute[1]!);
      if (!room) return withCors(invalidRoom(), request);
      if (request.method !== 'GET') return withCors(jsonError(405, 'method-not-allowed', 'Use GET'), request);
      const access = await roomAccess(env, room, bearerToken(request));
      if (!access.ok) return withCors(jsonError(401, 'unauthorized', access.reason), request);
      return withCors(Response.json(await env.Room.getByName(room).summary()), request);
    }
    if (url.pathname.startsWith('/api/'))
      return withCors(jsonError(404, 'not-found', 'No such API'), request);

    const asset = await env.ASSETS.fetch(request);
    // The widget (meetkit.js, and the chunks it imports from meetkit-chunks/) is loaded as module
    // scripts by pages on any origin.
    return url.pathname.startsWith('/meetkit') ? withCors(asset, request) : asset;
  },

  /** The delivery queue and its dead-letter queue (wrangler.jsonc). */
  queue: (batch, env) => handleDeliveries(batch, env),
} satisfies ExportedHandler<Env>;

/** `Authorization: Bearer <participantId>.<key>`: the room connection's media key. */
function connectionCredentials(request: Request): { id: string; key: string } | null {
  const match = /^Bearer ([A-Za-z0-9_-]{1,64})\.([0-9a-f]{32})$/.exec(
    request.headers.get('Authorization') ?? '',
  );
  return match ? { id: match[1]!, key: match[2]! } : null;
}

/**
 * `POST /api/rooms/<room>/feedback` (`src/protocol/feedback.ts`): read up to
 * its limit, parsed whole here, so the room only sees a valid request; the
 * room checks the key, the rate and the meeting.
 */
async function feedbackRequest(request: Request, env: Env, rawRoom: string): Promise<Response> {
  const room = roomName(rawRoom);
  if (!room) return invalidRoom();
  if (request.method !== 'POST') return jsonError(405, 'method-not-allowed', 'Use POST');
  const credentials = connectionCredentials(request);
  if (!credentials) return jsonError(401, 'unauthorized', "Feedback needs the room connection's key");
  const text = await readLimitedText(request, feedback.FEEDBACK_MAX_BYTES);
  if (text === null) {
    return jsonError(413, 'too-large', `Feedback too large: at most ${feedback.FEEDBACK_MAX_BYTES} bytes`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return jsonError(400, 'invalid-request', 'Body is not JSON');
  }
  const parsed = feedback.feedbackRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return jsonError(
      400,
      'invalid-request',
      `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const reply = await env.Room.getByName(room).feedback(credentials.id, credentials.key, parsed.data);
  return Response.json(reply.body, { status: reply.status, headers: reply.headers });
}

/**
 * `GET /api/rooms/<room>/meetings?limit=&before=`: the meeting history. With
 * `JOIN_SECRET`, only for a host's token of that room.
 */
async function historyRequest(request: Request, env: Env, rawRoom: string): Promise<Response> {
  const room = roomName(rawRoom);
  if (!room) return invalidRoom();
  if (request.method !== 'GET') return jsonError(405, 'method-not-allowed', 'Use GET');
  const access = await roomAccess(env, room, bearerToken(request));
  if (!access.ok) return jsonError(401, 'unauthorized', access.reason);
  if (access.identity && access.identity.role !== 'host') {
    return jsonError(403, 'forbidden', 'Only a host of this room may read its meetings');
  }
  const params = new URL(request.url).searchParams;
  const limit = params.get('limit') ?? String(HISTORY_PAGE_SIZE);
  const before = params.get('before');
  if (!/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > HISTORY_MAX_PAGE_SIZE) {
    return jsonError(400, 'invalid-request', `limit must be 1-${HISTORY_MAX_PAGE_SIZE}`);
  }
  if (before !== null && !/^\d{1,16}$/.test(before)) {
    return jsonError(400, 'invalid-request', 'before must be the `next` of the previous page');
  }
  return Response.json(
    await env.Room.getByName(room).history(Number(limit), before === null ? null : Number(before)),
  );
}

/**
 * `POST /api/rooms/<room>/media/<op>` with `Authorization: Bearer <id>.<key>`.
 * Only the JSON body and those two values go on to the room; cookies and
 * other headers of the browser are never passed to Calls.
 */
async function mediaRequest(
  request: Request,
  env: Env,
  rawRoom: string,
  operation: string,
): Promise<Response> {
  const room = roomName(rawRoom);
  if (!room) return invalidRoom();
  if (!(media.MEDIA_OPERATIONS as readonly string[]).includes(operation))
    return jsonError(404, 'not-found', 'No such media operation');
  if (request.method !== 'POST') return jsonError(405, 'method-not-allowed', 'Use POST');
  const credentials = connectionCredentials(request);
  if (!credentials) return jsonError(401, 'unauthorized', "Media requests need the room connection's key");
  const text = await readLimitedText(request, MAX_MEDIA_BODY_BYTES);
  if (text === null) {
    return jsonError(413, 'too-large', `Request body too large: at most ${MAX_MEDIA_BODY_BYTES} bytes`);
  }
  let body: unknown = {};
  try {
    if (text) body = JSON.parse(text);
  } catch {
    return jsonError(400, 'invalid-request', 'Body is not JSON');
  }
  const reply = await env.Room.getByName(room).media(
    operation as media.MediaOperation,
    credentials.id,
    credentials.key,
    body,
  );
  return new Response(reply.json, {
    status: reply.status,
    headers: { 'content-type': 'application/json', ...reply.headers },
  });
}

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
