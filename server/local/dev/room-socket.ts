/**
 * A room participant for Node tests and benchmarks: a raw `ws` socket that
 * speaks the protocol and lets a test await the next message it cares about.
 */
import WebSocket from 'ws';
import {
  HEARTBEAT_INTERVAL_MS,
  parseServerMessage,
  PING_FRAME,
  PROTOCOL_VERSION,
  RESUME_PARAM,
  type ClientMessage,
  type ServerMessage,
  type ServerMessageOf,
} from '../../../src/protocol/index.js';

export interface RoomSocketOptions {
  token?: string;
  origin?: string;
  /** Defaults to the current protocol version. */
  version?: string | null;
  /** Send the heartbeat frame this often (ms); 0 = never. Default: the protocol's interval. */
  heartbeatMs?: number;
  /** Resume a participant: their id and the `resumeKey` of their last snapshot. */
  resume?: { id: string; key: string };
  /** Address to connect from, when several loopback addresses are wanted (127.0.0.x). */
  localAddress?: string;
}

interface Waiter {
  match: (message: ServerMessage) => boolean;
  resolve: (message: ServerMessage) => void;
}

export class RoomSocket {
  readonly ws: WebSocket;
  /** Every message received, in order, parsed. */
  readonly received: ServerMessage[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters = new Set<Waiter>();
  #cursor = 0;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(serverUrl: string, room: string, options: RoomSocketOptions = {}) {
    const url = new URL(`/parties/room/${room}`, serverUrl.replace(/^http/, 'ws'));
    const version = options.version === undefined ? String(PROTOCOL_VERSION) : options.version;
    if (version !== null) url.searchParams.set('v', version);
    if (options.token) url.searchParams.set('token', options.token);
    if (options.resume) url.searchParams.set(RESUME_PARAM, `${options.resume.id}.${options.resume.key}`);
    this.ws = new WebSocket(url, {
      ...(options.origin ? { origin: options.origin } : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        this.stopHeartbeat();
        resolve({ code, reason: reason.toString() });
      }),
    );
    const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
    if (heartbeatMs > 0) {
      this.ws.once('open', () => {
        this.#heartbeat = setInterval(() => this.ws.send(PING_FRAME), heartbeatMs);
      });
    }
    this.ws.on('message', (raw, isBinary) => {
      const data = raw as Buffer;
      if (isBinary) throw new Error('room sent a binary frame');
      const parsed = parseServerMessage(data.toString());
      if (!parsed.ok) throw new Error(`room sent an invalid message: ${parsed.reason}: ${data.toString()}`);
      this.received.push(parsed.message);
      for (const waiter of this.#waiters) {
        if (waiter.match(parsed.message)) {
          this.#waiters.delete(waiter);
          waiter.resolve(parsed.message);
        }
      }
    });
  }

  static async open(serverUrl: string, room: string, options?: RoomSocketOptions): Promise<RoomSocket> {
    const socket = new RoomSocket(serverUrl, room, options);
    await socket.opened;
    return socket;
  }

  send(message: ClientMessage): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(frame: string | Buffer): void {
    this.ws.send(frame);
  }

  /**
   * The next message (not yet consumed by an earlier `next`) of this type that
   * matches; fails after `timeoutMs`.
   */
  next<T extends ServerMessage['type']>(
    type: T,
    match: (message: ServerMessageOf<T>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<ServerMessageOf<T>> {
    const test = (m: ServerMessage): m is ServerMessageOf<T> =>
      m.type === type && match(m as ServerMessageOf<T>);
    for (let i = this.#cursor; i < this.received.length; i++) {
      const message = this.received[i]!;
      if (test(message)) {
        this.#cursor = i + 1;
        return Promise.resolve(message);
      }
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match: test,
        resolve: (message) => {
          clearTimeout(timer);
          this.#cursor = this.received.length;
          resolve(message as ServerMessageOf<T>);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new Error(
            `no ${type} message within ${timeoutMs} ms; got ${JSON.stringify(this.received.slice(this.#cursor))}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Joins and resolves with this participant as the room announced it. */
  async join(name: string, state?: Extract<ClientMessage, { type: 'join' }>['state']) {
    const snapshot = this.received.find((m) => m.type === 'snapshot') ?? (await this.next('snapshot'));
    if (snapshot.type !== 'snapshot') throw new Error('unreachable');
    this.send({ type: 'join', name, ...(state ? { state } : {}) });
    const joined = await this.next('participant-joined', (m) => m.participant.id === snapshot.selfId);
    return joined.participant;
  }

  get selfId(): string {
    return this.snapshot.selfId;
  }

  /** What this connection needs to resume its participant on a new one. */
  get resume(): { id: string; key: string } {
    const { selfId, resumeKey } = this.snapshot;
    if (!resumeKey) throw new Error('the snapshot has no resume key');
    return { id: selfId, key: resumeKey };
  }

  get snapshot(): ServerMessageOf<'snapshot'> {
    const snapshot = this.received.find((m) => m.type === 'snapshot');
    if (!snapshot || snapshot.type !== 'snapshot') throw new Error('no snapshot yet');
    return snapshot;
  }

  /** Go silent, like a half-open connection: no frames, no close. */
  stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
  }

  /** Closes with a close frame (a closed tab sends 1001). */
  close(code?: number): Promise<{ code: number; reason: string }> {
    this.ws.close(code);
    return this.closed;
  }

  /** Drops the TCP connection without a close frame, like a crashed tab. */
  terminate(): void {
    this.stopHeartbeat();
    this.ws.terminate();
  }
}
