/**
 * A bad network for one session, for connection-quality tests: packet loss
 * and delay on its media, like the HTTP faults (`faults.ts`) but on the
 * wire. It works on datagrams as they leave or reach the session's ICE
 * connection, still encrypted, so everything downstream sees real loss:
 * werift's receiver reports (and so the browser's `remote-inbound-rtp`), the
 * sequence-number gaps forwarded to subscribers (their `inbound-rtp`
 * `packetsLost`), the browser's own receive statistics. Only SRTP and SRTCP
 * are touched: STUN never reaches this layer (werift's ICE handles it below)
 * and DTLS passes, so even 100% loss keeps ICE and DTLS up, the way a
 * congested path (not a cut cable) behaves.
 */
import type { RTCDtlsTransport, RTCPeerConnection } from 'werift';
import * as z from 'zod/mini';
import { HttpError, parse } from './http-error.js';

export const impairmentSettings = z.object({
  sessionId: z.string().check(z.regex(/^[0-9a-f]{32}$/, 'a session id: 32 hex digits')),
  /** Share of SRTP/SRTCP datagrams dropped, 0–1. */
  loss: z._default(z.number().check(z.gte(0), z.lte(1)), 0),
  /** Added to every SRTP/SRTCP datagram that is not dropped, in milliseconds. */
  delayMs: z._default(z.number().check(z.gte(0), z.lte(5_000)), 0),
  /** `to-browser`: what the SFU sends; `from-browser`: what it receives; `both`. */
  direction: z._default(z.enum(['both', 'to-browser', 'from-browser']), 'both'),
  /**
   * Only the RTP of this m-line of the session (by its SSRC): one pulled
   * track to this browser (`to-browser`), or one track it publishes
   * (`from-browser`). RTCP and the other m-lines pass untouched.
   */
  mid: z.optional(z.string().check(z.minLength(1))),
});
export type ImpairmentSettings = z.infer<typeof impairmentSettings>;
/** What `set` takes: `loss` and `delayMs` left out are 0, `direction` is `both`. */
export type ImpairmentInput = z.input<typeof impairmentSettings>;
export type Direction = 'to-browser' | 'from-browser';

/** What happens to one datagram: passed now, dropped, or passed after a delay (ms). */
export type Fate = 'pass' | 'drop' | number;

/** Datagrams the impairment of one session dropped and delayed so far. */
export interface ImpairmentCounts {
  dropped: number;
  delayed: number;
}

/** RFC 7983: the first byte of an RTP or RTCP packet is 128–191 (DTLS is 20–63, STUN 0–3). */
export function isSrtpOrSrtcp(datagram: Uint8Array): boolean {
  const first = datagram[0];
  return first !== undefined && first >= 128 && first <= 191;
}

/** RFC 5761: RTCP packet types (the second byte) are 192–223; RTP's marker bit and payload type are not. */
function isRtcp(datagram: Uint8Array): boolean {
  const second = datagram[1];
  return second !== undefined && second >= 192 && second <= 223;
}

/** The SSRC of an RTP packet (in the clear in SRTP), or undefined for RTCP or a runt. */
export function rtpSsrc(datagram: Uint8Array): number | undefined {
  if (datagram.length < 12 || isRtcp(datagram)) return undefined;
  return new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength).getUint32(8);
}

/**
 * Pure: what becomes of one datagram under `settings`. `ssrcs` are the
 * SSRCs of the `mid` the settings name (ignored without one); `random` is
 * 0–1 like `Math.random()`.
 */
export function fateOf(
  settings: ImpairmentSettings | undefined,
  direction: Direction,
  datagram: Uint8Array,
  ssrcs: ReadonlySet<number>,
  random: number,
): Fate {
  if (!settings || !isSrtpOrSrtcp(datagram)) return 'pass';
  if (settings.direction !== 'both' && settings.direction !== direction) return 'pass';
  if (settings.mid !== undefined) {
    const ssrc = rtpSsrc(datagram);
    if (ssrc === undefined || !ssrcs.has(ssrc)) return 'pass';
  }
  if (random < settings.loss) return 'drop';
  return settings.delayMs > 0 ? settings.delayMs : 'pass';
}

/** The parts of werift 0.24 wrapped here (the version is pinned; see peer.ts). */
interface IceConnection {
  send(data: Buffer): Promise<void>;
  onData: { execute(data: Buffer): void };
}
interface WeriftInternals {
  secureManager: { createTransport(): RTCDtlsTransport };
}

export class Impairments {
  readonly #settings = new Map<string, ImpairmentSettings>();
  readonly #peers = new Map<string, RTCPeerConnection>();
  readonly #counts = new Map<string, ImpairmentCounts>();

  constructor(private readonly random: () => number = Math.random) {}

  /**
   * Replaces the impairment of one open session; `{sessionId, loss: 0,
   * delayMs: 0}` (or no loss and no delay) clears it. Bad settings are 400
   * `invalid_params`, a session the SFU does not hold is 404.
   */
  set(input: unknown): ImpairmentSettings {
    const settings = parse(impairmentSettings, input);
    const clears = settings.loss === 0 && settings.delayMs === 0;
    if (clears) this.#settings.delete(settings.sessionId);
    else if (!this.#peers.has(settings.sessionId))
      throw new HttpError(404, 'session_error', 'no such session to impair');
    else this.#settings.set(settings.sessionId, settings);
    return settings;
  }

  /** The impairment of a session now, if any. */
  get(sessionId: string): ImpairmentSettings | undefined {
    return this.#settings.get(sessionId);
  }

  /** What was dropped and delayed on a session so far (closed sessions are forgotten). */
  counts(sessionId: string): ImpairmentCounts {
    return { ...(this.#counts.get(sessionId) ?? { dropped: 0, delayed: 0 }) };
  }

  /** Every datagram dropped and delayed so far, on every session. */
  get totals(): ImpairmentCounts {
    let dropped = 0;
    let delayed = 0;
    for (const counts of this.#counts.values()) {
      dropped += counts.dropped;
      delayed += counts.delayed;
    }
    return { dropped, delayed };
  }

  /**
   * Puts a new session's datagrams through its impairment: the ICE
   * connections of its transports now, and of every transport werift makes
   * for it later (a BUNDLE move, see peer.ts `moveToNewTransport`).
   */
  attach(sessionId: string, pc: RTCPeerConnection): void {
    this.#peers.set(sessionId, pc);
    const manager = (pc as unknown as WeriftInternals).secureManager;
    const createTransport = manager.createTransport.bind(manager);
    manager.createTransport = () => {
      const transport = createTransport();
      this.#wrap(sessionId, transport.iceTransport.connection as unknown as IceConnection);
      return transport;
    };
    for (const transport of pc.iceTransports)
      this.#wrap(sessionId, transport.connection as unknown as IceConnection);
  }

  /** The session closed: its impairment and counts go with it. */
  forget(sessionId: string): void {
    this.#settings.delete(sessionId);
    this.#peers.delete(sessionId);
    this.#counts.delete(sessionId);
  }

  #wrap(sessionId: string, connection: IceConnection): void {
    const send = connection.send.bind(connection);
    connection.send = (data) => {
      const fate = this.#fate(sessionId, 'to-browser', data);
      if (fate === 'pass') return send(data);
      if (fate !== 'drop') setTimeout(() => void send(data).catch(() => undefined), fate);
      // werift does not wait for a datagram on the wire; neither does a network.
      return Promise.resolve();
    };
    const { onData } = connection;
    const receive = onData.execute.bind(onData);
    onData.execute = (data) => {
      const fate = this.#fate(sessionId, 'from-browser', data);
      if (fate === 'pass') receive(data);
      else if (fate !== 'drop') setTimeout(() => receive(data), fate);
    };
  }

  #fate(sessionId: string, direction: Direction, datagram: Buffer): Fate {
    const settings = this.#settings.get(sessionId);
    if (!settings) return 'pass';
    const fate = fateOf(
      settings,
      direction,
      datagram,
      this.#ssrcs(sessionId, settings, direction),
      this.random(),
    );
    if (fate === 'pass') return fate;
    const counts = this.#counts.get(sessionId) ?? { dropped: 0, delayed: 0 };
    this.#counts.set(sessionId, counts);
    if (fate === 'drop') counts.dropped++;
    else counts.delayed++;
    return fate;
  }

  /** The SSRCs of the m-line the settings name, as werift knows them now (none without a mid). */
  #ssrcs(sessionId: string, settings: ImpairmentSettings, direction: Direction): ReadonlySet<number> {
    if (settings.mid === undefined) return noSsrcs;
    const transceiver = this.#peers
      .get(sessionId)
      ?.getTransceivers()
      .find((t) => t.mid === settings.mid);
    if (!transceiver) return noSsrcs;
    if (direction === 'to-browser') return new Set([transceiver.sender.ssrc, transceiver.sender.rtxSsrc]);
    return new Set(transceiver.receiver.tracks.flatMap((track) => (track.ssrc ? [track.ssrc] : [])));
  }
}

const noSsrcs: ReadonlySet<number> = new Set();
