/**
 * The local SFU's HTTP face: the part of the Cloudflare Calls API the Worker
 * uses (CALLS-API.md), on 127.0.0.1 only, plus local-only routes:
 * `GET /__local/stats` (with request counters per session),
 * `PUT /__local/faults` and `PUT /__local/impairments`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeTracksRequest, renegotiateRequest, updateTracksRequest } from '../../calls/schema.js';
import { Faults, faultSettings } from './faults.js';
import { HttpError, parse } from './http-error.js';
import { Impairments, type ImpairmentInput, type ImpairmentSettings } from './impairment.js';
import { exclusive } from './negotiation-lock.js';
import { arrivingRids, CALLS_WINDOWS, SfuSession, type SessionOrigin } from './session.js';
import { invalidSimulcast } from './simulcast.js';
import { tracksNew } from './tracks-new.js';

const MAX_BODY_BYTES = 1 << 20;
const SESSION_ROUTE =
  /^\/v1\/apps\/([^/]+)\/sessions\/([0-9a-f]{32})(\/tracks\/new|\/renegotiate|\/tracks\/close|\/tracks\/update)?$/;
const NEW_SESSION_ROUTE = /^\/v1\/apps\/([^/]+)\/sessions\/new$/;

export interface LocalSfuOptions {
  appId: string;
  appSecret: string;
  /** 0 picks a free port. */
  port?: number;
  /** Tracks without packets this long are closed, like Calls does after 30 s. */
  silentTrackMs?: number;
  /** A session not connected this long after creation or its last negotiation is closed (30 s). */
  connectWindowMs?: number;
  /** A connected session that hears nothing from its browser this long is closed (30 s, as on Calls). */
  reconnectWindowMs?: number;
}

export interface LocalSfu {
  url: string;
  /** The value for `CALLS_API_URL`. */
  callsApiUrl: string;
  faults: Faults;
  /** Packet loss and delay per session (see impairment.ts). */
  impairments: Impairments;
  /** Sets one session's packet loss and delay, like `PUT /__local/impairments`; no loss and no delay clears it. */
  impair(settings: ImpairmentInput): ImpairmentSettings;
  sessions: ReadonlyMap<string, SfuSession>;
  stats(): LocalSfuStats;
  /** The Calls API requests that reached this session so far (closed sessions included). */
  requests(sessionId: string): SessionRequests;
  close(): Promise<void>;
}

export interface LocalSfuStats {
  sessions: number;
  /** Sessions made with `thirdparty=true` (server peers such as the AI model). */
  thirdPartySessions: number;
  publishedTracks: number;
  pulledTracks: number;
  forwardedPackets: number;
  faultsInjected: number;
  /** SRTP/SRTCP datagrams the impairments dropped and delayed (open sessions). */
  datagramsDropped: number;
  datagramsDelayed: number;
  /** Every Calls API request received, failed and refused ones included. */
  callsApiRequests: number;
  /** `sessions/new` requests received. */
  newSessionRequests: number;
  /** Per session id: what `requests(id)` gives. */
  sessionRequests: Record<string, SessionRequests>;
  /** Every open pull (`#name` ones too): the layer it gets now and what it was sent. */
  pulledLayers: PulledLayer[];
  /** Per active published track (`sessionId/trackName`): the simulcast rids arriving now; [] for one stream. */
  publishedLayers: Record<string, string[]>;
}

export interface PulledLayer {
  subscriberSessionId: string;
  mid: string;
  kind: 'audio' | 'video';
  /** `sessionId/trackName` of the published track. */
  source: string;
  /** As asked for in the pull or the last `tracks/update`; null when none was given. */
  preferredRid: string | null;
  /** The layer forwarded now; null when the source is not simulcast (or before its first keyframe). */
  rid: string | null;
  /** RTP payload bytes sent to the subscriber so far. */
  bytesForwarded: number;
}

/** Requests that reached one session, by route, counted before any fault or check. */
export interface SessionRequests {
  tracksNew: number;
  renegotiate: number;
  tracksClose: number;
  tracksUpdate: number;
  get: number;
  total: number;
}

const ACTION_COUNTERS = {
  '/tracks/new': 'tracksNew',
  '/renegotiate': 'renegotiate',
  '/tracks/close': 'tracksClose',
  '/tracks/update': 'tracksUpdate',
} as const;

const noRequests = (): SessionRequests => ({
  tracksNew: 0,
  renegotiate: 0,
  tracksClose: 0,
  tracksUpdate: 0,
  get: 0,
  total: 0,
});

export async function startLocalSfu(options: LocalSfuOptions): Promise<LocalSfu> {
  const sessions = new Map<string, SfuSession>();
  const closedSessions = new Set<string>();
  const faults = new Faults();
  const impairments = new Impairments();
  const silentTrackMs = options.silentTrackMs ?? 30_000;
  const collector = setInterval(
    () => {
      for (const session of sessions.values()) session.collectSilentTracks(silentTrackMs);
    },
    Math.min(5_000, silentTrackMs / 2),
  );
  collector.unref();
  let forwardedByClosed = 0;
  let callsApiRequests = 0;
  let newSessionRequests = 0;
  const sessionRequests = new Map<string, SessionRequests>();

  function countRequest(path: string): void {
    callsApiRequests++;
    if (NEW_SESSION_ROUTE.test(path)) newSessionRequests++;
    const [, , id, action] = SESSION_ROUTE.exec(path) ?? [];
    if (!id) return;
    const counts = sessionRequests.get(id) ?? noRequests();
    sessionRequests.set(id, counts);
    counts.total++;
    counts[action ? ACTION_COUNTERS[action as keyof typeof ACTION_COUNTERS] : 'get']++;
  }

  const stats = (): LocalSfuStats => {
    const all = [...sessions.values()];
    return {
      sessions: all.length,
      thirdPartySessions: all.filter((s) => s.thirdParty).length,
      publishedTracks: all.reduce((n, s) => n + [...s.published.values()].filter((t) => t.active).length, 0),
      pulledTracks: all.reduce(
        (n, s) => n + [...s.pulled.values(), ...s.feeds.values()].filter((t) => t.active).length,
        0,
      ),
      forwardedPackets: forwardedByClosed + all.reduce((n, s) => n + s.forwarded, 0),
      faultsInjected: faults.injected,
      datagramsDropped: impairments.totals.dropped,
      datagramsDelayed: impairments.totals.delayed,
      callsApiRequests,
      newSessionRequests,
      sessionRequests: Object.fromEntries([...sessionRequests].map(([id, counts]) => [id, { ...counts }])),
      pulledLayers: all.flatMap((s) =>
        [...s.pulled.values(), ...s.feeds.values()]
          .filter((t) => t.active && t.source.active)
          .map((t) => ({
            subscriberSessionId: s.id,
            mid: t.mid,
            kind: t.source.kind,
            source: `${t.source.session.id}/${t.source.name}`,
            preferredRid: t.simulcast.preferredRid,
            rid: t.layers?.current ?? null,
            bytesForwarded: t.bytesForwarded,
          })),
      ),
      publishedLayers: Object.fromEntries(
        all.flatMap((s) =>
          [...s.published.values()]
            .filter((t) => t.active)
            .map((t) => [`${s.id}/${t.name}`, arrivingRids(t)]),
        ),
      ),
    };
  };

  const windows = {
    connectWindowMs: options.connectWindowMs ?? CALLS_WINDOWS.connectWindowMs,
    reconnectWindowMs: options.reconnectWindowMs ?? CALLS_WINDOWS.reconnectWindowMs,
  };
  const newSession = (origin: SessionOrigin) => {
    const session = new SfuSession(
      (closed) => {
        sessions.delete(closed.id);
        closedSessions.add(closed.id);
        forwardedByClosed += closed.forwarded;
        impairments.forget(closed.id);
      },
      windows,
      origin,
    );
    impairments.attach(session.id, session.pc);
    sessions.set(session.id, session);
    return session;
  };

  function sessionFor(id: string): SfuSession {
    const session = sessions.get(id);
    if (session) return session;
    if (closedSessions.has(id)) throw new HttpError(410, 'session_error', 'session is closed');
    throw new HttpError(404, 'session_error', 'no such session');
  }

  async function route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
  ): Promise<[number, unknown]> {
    if (path === '/__local/stats' && method === 'GET') return [200, stats()];
    if (path === '/__local/faults' && method === 'PUT') {
      faults.set(parse(faultSettings, body));
      return [200, faults.settings];
    }
    if (path === '/__local/impairments' && method === 'PUT') return [200, impairments.set(body)];

    const newRoute = NEW_SESSION_ROUTE.exec(path);
    const sessionRoute = SESSION_ROUTE.exec(path);
    const app = newRoute?.[1] ?? sessionRoute?.[1];
    if (!app) throw new HttpError(404, 'not_found', `no route ${method} ${path}`);
    if (app !== options.appId) throw new HttpError(404, 'not_found', 'no such app');

    if (newRoute) {
      if (method !== 'POST') throw new HttpError(405, 'invalid_request', 'use POST');
      const origin = {
        thirdParty: query.get('thirdparty') === 'true',
        correlationId: query.get('correlationId') ?? undefined,
      };
      return [201, { sessionId: newSession(origin).id }];
    }
    const session = sessionFor(sessionRoute![2]!);
    const action = sessionRoute![3];
    switch (`${method} ${action ?? ''}`) {
      case 'GET ':
        return [200, session.state()];
      case 'POST /tracks/new': {
        const answer = await tracksNew(session, body, sessions);
        const batchError = faults.batchErrorFor(path);
        if (batchError === null) return [200, answer];
        return [200, { ...answer, errorCode: batchError, errorDescription: 'injected fault' }];
      }
      case 'PUT /renegotiate': {
        const { sessionDescription } = parse(renegotiateRequest, body);
        if (!session.offerOutstanding || sessionDescription.type !== 'answer' || session.busy)
          throw new HttpError(
            400,
            'invalid_session_description',
            'no offer of ours is waiting for this answer',
          );
        session.busy = true;
        try {
          await session.renegotiate(sessionDescription);
        } finally {
          session.busy = false;
        }
        return [200, {}];
      }
      case 'PUT /tracks/close': {
        const request = parse(closeTracksRequest, body);
        const mids = request.tracks.map((t) => t.mid);
        // The injected failure keeps the first mid open: it is left out of the close.
        const failing = faults.failsCloseItem(path) ? mids[0] : undefined;
        return [
          200,
          await exclusive(session, async () => {
            const closed = await session.closeTracks(
              mids.filter((mid) => mid !== failing),
              request.sessionDescription,
            );
            let next = 0;
            const tracks = mids.map((mid) =>
              mid === failing
                ? { mid, errorCode: 'close_track_error', errorDescription: 'injected fault' }
                : closed.tracks[next++],
            );
            return {
              tracks,
              requiresImmediateRenegotiation: false,
              ...(closed.answer ? { sessionDescription: closed.answer } : {}),
            };
          }),
        ];
      }
      case 'PUT /tracks/update': {
        // A pulled track's simulcast layer changes at its next keyframe, with no negotiation.
        // Another source for the mid (reusing the transceiver) is accepted and not applied.
        const { tracks } = parse(updateTracksRequest, body);
        return [
          200,
          {
            requiresImmediateRenegotiation: false,
            tracks: tracks.map((t) => {
              if (t.mid === undefined || !session.pulled.has(t.mid))
                return {
                  ...t,
                  errorCode: 'update_track_error',
                  errorDescription: 'no pulled track with this mid',
                };
              const invalid = invalidSimulcast(t.simulcast);
              if (invalid) return { ...t, ...invalid };
              if (t.simulcast) session.updateSimulcast(t.mid, t.simulcast);
              return t;
            }),
          },
        ];
      }
      default:
        throw new HttpError(405, 'invalid_request', `${method} is not allowed here`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const local = path.startsWith('/__local/');
    if (!local) countRequest(path);
    const dropResponse = !local && faults.dropsResponse(path);
    let status: number;
    let payload: unknown;
    try {
      if (!local && req.headers.authorization !== `Bearer ${options.appSecret}`)
        throw new HttpError(401, 'unauthorized', 'missing or wrong app secret');
      const body = await readJson(req);
      if (!local) {
        const delay = faults.delayFor(path);
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        const failure = faults.failureFor(path);
        if (failure !== null) throw new HttpError(failure.status, failure.errorCode, 'injected fault');
      }
      [status, payload] = await route(method, path, url.searchParams, body);
    } catch (error) {
      const known = error instanceof HttpError ? error : null;
      status = known?.status ?? 500;
      payload = {
        errorCode: known?.errorCode ?? 'internal_error',
        errorDescription: error instanceof Error ? error.message : String(error),
      };
    }
    // The request was applied; the caller never learns it.
    if (dropResponse) return void req.socket.destroy();
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    callsApiUrl: `${url}/v1`,
    faults,
    impairments,
    impair: (settings) => impairments.set(settings),
    sessions,
    stats,
    requests: (sessionId) => ({ ...(sessionRequests.get(sessionId) ?? noRequests()) }),
    async close() {
      clearInterval(collector);
      for (const session of [...sessions.values()]) session.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'invalid_params', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_params', 'body is not JSON');
  }
}
