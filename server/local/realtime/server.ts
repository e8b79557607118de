/**
 * A local stand-in for OpenAI Realtime over WebRTC (GA), on 127.0.0.1 only:
 * `POST /v1/realtime/calls` (multipart `sdp` + `session`, answered 201 with
 * an SDP answer and `Location`), `POST /v1/realtime/calls/{id}/hangup`, and
 * the sideband WebSocket `/v1/realtime?call_id=`. It checks requests the way
 * OpenAI does and answers errors in OpenAI's JSON. See README.md for what it
 * simplifies. `PUT /__local/faults` (or `faults` in-process) makes it fail on
 * purpose.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import * as z from 'zod/mini';
import { realtimeSession, type RealtimeSession } from '../../ai/realtime-events.js';
import { OfferError } from './call-media.js';
import { LocalRealtimeCall, type CallCounters } from './call.js';
import { RealtimeFaults, realtimeFaultSettings, type RealtimeRoute } from './faults.js';

const MAX_BODY_BYTES = 1 << 20;
const CALLS_ROUTE = '/v1/realtime/calls';
const HANGUP_ROUTE = /^\/v1\/realtime\/calls\/([^/]+)\/hangup$/;
const SIDEBAND_ROUTE = '/v1/realtime';
const FAULTS_ROUTE = '/__local/faults';

export interface LocalRealtimeOptions {
  /** The only key it accepts, as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** A call whose peer has not connected this long after the answer is ended. */
  connectWindowMs?: number;
}

export interface LocalRealtimeStats extends CallCounters {
  callsOpen: number;
  sidebandsOpen: number;
  callsCreated: number;
  callsHungUp: number;
  /** `POST /v1/realtime/calls` requests received, refused and faulted ones included. */
  callRequests: number;
  faultsInjected: number;
}

export interface LocalRealtime {
  /** The value for `OPENAI_API_URL`, e.g. `http://127.0.0.1:PORT/v1`. */
  url: string;
  calls: ReadonlyMap<string, LocalRealtimeCall>;
  /** What the next requests suffer; `PUT /__local/faults` sets the same. */
  faults: RealtimeFaults;
  stats(): LocalRealtimeStats;
  close(): Promise<void>;
}

/** An answer in OpenAI's error shape. */
class OpenAiHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null,
    readonly param: string | null = null,
    readonly type = 'invalid_request_error',
  ) {
    super(message);
  }

  get body(): string {
    const { message, type, code, param } = this;
    return JSON.stringify({ error: { message, type, code, param } });
  }
}

/** The `session` part: OpenAI's realtime session, whose model must be named. */
const callSession = z.looseObject({
  ...realtimeSession.shape,
  model: z.string().check(z.minLength(1)),
});

export async function startLocalRealtime(options: LocalRealtimeOptions): Promise<LocalRealtime> {
  const calls = new Map<string, LocalRealtimeCall>();
  const counters: CallCounters = {
    audioPacketsReceived: 0,
    audioPacketsSent: 0,
    eventsReceived: 0,
    eventsSent: 0,
  };
  let callsCreated = 0;
  let callsHungUp = 0;
  let callRequests = 0;
  const faults = new RealtimeFaults();
  /** Sideband upgrades held unanswered by a `hangNext` fault; HTTP requests are held by the server. */
  const heldUpgrades = new Set<Socket>();
  const connectWindowMs = options.connectWindowMs ?? 30_000;

  function authorize(req: IncomingMessage): void {
    const header = req.headers.authorization;
    if (header === `Bearer ${options.apiKey}`) return;
    throw new OpenAiHttpError(
      401,
      header
        ? 'Incorrect API key provided. You can find your API key in your local stand-in settings.'
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      'invalid_api_key',
    );
  }

  function callFor(id: string): LocalRealtimeCall {
    const call = calls.get(id);
    if (!call) throw new OpenAiHttpError(404, `Call '${id}' not found.`, 'call_id_not_found', 'call_id');
    return call;
  }

  async function createCall(req: IncomingMessage): Promise<{ id: string; answer: string }> {
    const form = await readForm(req);
    const sdp = await formText(form.get('sdp'));
    const sessionText = await formText(form.get('session'));
    if (!sdp)
      throw new OpenAiHttpError(
        400,
        "Missing required parameter: 'sdp'.",
        'missing_required_parameter',
        'sdp',
      );
    const session = parseSession(sessionText);
    const call = new LocalRealtimeCall(
      session,
      counters,
      (closed) => calls.delete(closed.id),
      connectWindowMs,
    );
    try {
      const answer = await call.media.answer(sdp);
      calls.set(call.id, call);
      callsCreated++;
      return { id: call.id, answer };
    } catch (error) {
      call.close();
      if (error instanceof OfferError) throw new OpenAiHttpError(400, error.message, 'invalid_offer', 'sdp');
      throw error;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    try {
      if (path === FAULTS_ROUTE) {
        if (req.method !== 'PUT') throw new OpenAiHttpError(405, 'Use PUT.', 'method_not_allowed');
        faults.set(parseFaults(await readBody(req)));
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(faults.settings));
      }
      const hangup = HANGUP_ROUTE.exec(path);
      const route: RealtimeRoute | null = path === CALLS_ROUTE ? 'create-call' : hangup ? 'hangup' : null;
      if (route === 'create-call') callRequests++;
      const fault = route && faults.faultFor(route);
      // Never answered: the caller's timeout ends it (or `close()`).
      if (fault === 'hang') return;
      if (fault) throw injectedFailure(fault.fail);
      authorize(req);
      if (route === 'create-call') {
        if (req.method !== 'POST') throw new OpenAiHttpError(405, 'Use POST.', 'method_not_allowed');
        const { id, answer } = await createCall(req);
        res.writeHead(201, { 'content-type': 'application/sdp', location: `${CALLS_ROUTE}/${id}` });
        return void res.end(answer);
      }
      if (hangup) {
        if (req.method !== 'POST') throw new OpenAiHttpError(405, 'Use POST.', 'method_not_allowed');
        callFor(decodeURIComponent(hangup[1]!)).close();
        callsHungUp++;
        res.writeHead(200);
        return void res.end();
      }
      throw new OpenAiHttpError(404, `Invalid URL (${req.method} ${path})`, null);
    } catch (error) {
      const known =
        error instanceof OpenAiHttpError
          ? error
          : new OpenAiHttpError(500, `The server had an error: ${String(error)}`, null, null, 'server_error');
      res.writeHead(known.status, { 'content-type': 'application/json' });
      res.end(known.body);
    }
  }

  const sidebands = new WebSocketServer({ noServer: true });

  /** `GET /v1/realtime?call_id=` with the key: joins the call's events. */
  function upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let call: LocalRealtimeCall;
    try {
      const fault = faults.faultFor('sideband');
      if (fault === 'hang') {
        heldUpgrades.add(socket);
        socket.once('close', () => heldUpgrades.delete(socket));
        return;
      }
      if (fault) throw injectedFailure(fault.fail);
      authorize(req);
      if (url.pathname !== SIDEBAND_ROUTE) throw new OpenAiHttpError(404, 'Invalid URL', null);
      const callId = url.searchParams.get('call_id');
      if (!callId)
        throw new OpenAiHttpError(
          400,
          "Missing required parameter: 'call_id'.",
          'missing_required_parameter',
          'call_id',
        );
      call = callFor(callId);
    } catch (error) {
      const known = error instanceof OpenAiHttpError ? error : new OpenAiHttpError(500, String(error), null);
      return refuseUpgrade(socket, known);
    }
    sidebands.handleUpgrade(req, socket, head, (ws) => {
      if (call.closed) return ws.close(1000, 'call ended');
      call.attach(ws);
    });
  }

  const server = createServer((req, res) => void handle(req, res));
  server.on('upgrade', upgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    calls,
    faults,
    stats: () => {
      const all = [...calls.values()];
      return {
        callsOpen: all.length,
        sidebandsOpen: all.reduce((n, call) => n + call.sidebands.size, 0),
        callsCreated,
        callsHungUp,
        callRequests,
        faultsInjected: faults.injected,
        ...counters,
      };
    },
    async close() {
      for (const call of [...calls.values()]) call.close();
      for (const client of sidebands.clients) client.terminate();
      for (const socket of heldUpgrades) socket.destroy();
      sidebands.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseSession(text: string | undefined): RealtimeSession {
  if (!text)
    throw new OpenAiHttpError(
      400,
      "Missing required parameter: 'session.model'.",
      'missing_required_parameter',
      'session.model',
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new OpenAiHttpError(400, "Invalid 'session': not valid JSON.", 'invalid_json', 'session');
  }
  const result = callSession.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = ['session', ...(issue?.path ?? [])].join('.');
  if (issue?.path.join('.') === 'model' && (json as { model?: unknown } | null)?.model === undefined)
    throw new OpenAiHttpError(
      400,
      `Missing required parameter: '${param}'.`,
      'missing_required_parameter',
      param,
    );
  throw new OpenAiHttpError(
    400,
    `Invalid '${param}': ${issue?.message ?? 'invalid value'}.`,
    'invalid_value',
    param,
  );
}

/** The whole body, up to `MAX_BODY_BYTES`. */
async function readBody(req: IncomingMessage): Promise<Buffer<ArrayBuffer>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new OpenAiHttpError(413, 'The request body is too large.', 'payload_too_large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The body as multipart form data, parsed by the platform's own `Request#formData()`. */
async function readForm(req: IncomingMessage): Promise<FormData> {
  const request = new Request('http://localhost/', {
    method: 'POST',
    headers: { 'content-type': req.headers['content-type'] ?? '' },
    body: await readBody(req),
  });
  try {
    return await request.formData();
  } catch {
    throw new OpenAiHttpError(
      400,
      'The request body must be multipart/form-data with the parts sdp and session.',
      'invalid_request_body',
    );
  }
}

/** The settings of `PUT /__local/faults`: JSON, any field left out is off. */
function parseFaults(body: Buffer) {
  let json: unknown;
  try {
    json = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    throw new OpenAiHttpError(400, 'The fault settings are not valid JSON.', 'invalid_json');
  }
  const result = realtimeFaultSettings.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new OpenAiHttpError(
    400,
    `Invalid fault setting '${issue?.path.join('.') ?? ''}': ${issue?.message ?? 'invalid value'}.`,
    'invalid_value',
  );
}

/** An injected failure, worded as OpenAI words it for that status. */
function injectedFailure(status: number): OpenAiHttpError {
  if (status === 401)
    return new OpenAiHttpError(401, 'Incorrect API key provided (an injected fault).', 'invalid_api_key');
  if (status === 403)
    return new OpenAiHttpError(403, 'This key may not use the Realtime API (an injected fault).', null);
  if (status === 429)
    return new OpenAiHttpError(
      429,
      'Rate limit reached for requests (an injected fault).',
      'rate_limit_exceeded',
      null,
      'requests',
    );
  return new OpenAiHttpError(
    status,
    'The server is overloaded or not ready yet (an injected fault).',
    null,
    null,
    'server_error',
  );
}

/** A form part as text, whether it came as a plain field or as a file (with a content type). */
async function formText(part: FormDataEntryValue | null): Promise<string | undefined> {
  if (part === null) return undefined;
  return typeof part === 'string' ? part : await part.text();
}

/** Answers a refused WebSocket upgrade with an HTTP error in OpenAI's shape. */
function refuseUpgrade(socket: Socket, error: OpenAiHttpError): void {
  const body = error.body;
  socket.end(
    `HTTP/1.1 ${error.status} ${error.status === 401 ? 'Unauthorized' : error.status === 404 ? 'Not Found' : 'Error'}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
