/**
 * The AI agent of one room (issue 8), as the room's Durable Object will own
 * it: the OpenAI Realtime model bridged into Calls the way CALLS-API.md
 * describes ("OpenAI Realtime over WebRTC"), controlled over the sideband
 * WebSocket, with push-to-talk.
 *
 * - `invite()`: a `thirdparty` Calls session, the SFU's offer for one
 *   bidirectional audio track `ai-generated-voice`, that offer sent to OpenAI,
 *   OpenAI's answer given back to Calls, the sideband opened by call id.
 *   Participants then pull `track` (`<sessionId>/ai-generated-voice`).
 * - State (`onState`): `connecting` → `listening` ⇄ `thinking` → `speaking`
 *   → `listening`; `error` (with its reason) once everything made is cleaned
 *   up; `ended` after `remove()`. Captions (`onCaption`): the transcript of
 *   what the model says, never its audio.
 * - Push-to-talk: `startTalking(source)` pulls the holder's microphone into
 *   the agent's track and clears what the model heard before; `stopTalking()`
 *   commits the turn and asks for an answer. Who holds it is the room's rule.
 * - `remove()` hangs up, closes the sideband and the Calls track, in any
 *   state (an `invite()` under way included), and never throws.
 *
 * What the room persists to survive an eviction is `snapshot()`; `restore()`
 * takes it back and reopens the sideband (see `AgentSnapshot`).
 */
import type { CallsClient } from '../calls/client.js';
import { CallsError } from '../calls/errors.js';
import { backoffDelay, type RetryPolicy } from '../calls/retry.js';
import {
  createOpenAiRealtimeClient,
  OpenAiError,
  realtimeSession,
  type OpenAiRealtimeClient,
  type OpenAiRealtimeOptions,
  type RealtimeSessionOptions,
} from './openai-realtime.js';
import { parseServerEvent, type ClientEvent, type RealtimeSession } from './realtime-events.js';

export const AGENT_TRACK_NAME = 'ai-generated-voice';

/**
 * - `idle`: made, not invited yet;
 * - `connecting`: `invite()` or `restore()` under way;
 * - `listening` / `thinking` / `speaking`: in the meeting;
 * - `error`: it failed and left (nothing of it remains); `invite()` may try again;
 * - `ended`: removed; final.
 */
export type AgentState = 'idle' | 'connecting' | 'listening' | 'thinking' | 'speaking' | 'error' | 'ended';

/** A track in Calls, as participants pull it. */
export interface TrackRef {
  sessionId: string;
  trackName: string;
}

/**
 * What the model says, for captions. Pieces come as `final: false` (each one
 * adds to the caption); the whole transcript of the answer then comes once as
 * `final: true` and replaces the pieces.
 */
export interface AgentCaption {
  text: string;
  final: boolean;
}

/**
 * - `auth`: OpenAI refused the server's API key (401/403); not retried;
 * - `unavailable`: OpenAI or Calls failed for longer than the bounded retries;
 * - `rejected`: a refusal that repeating would not change (a bad setting);
 * - `not-found`: the track to pull into the agent is not publishing (yet);
 * - `not-ready`: the agent is not in the meeting (or its sideband is being reopened);
 * - `ended`: the agent was removed meanwhile.
 */
export type AgentErrorCode = 'auth' | 'unavailable' | 'rejected' | 'not-found' | 'not-ready' | 'ended';

export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Where the sideband is, in both forms the runtimes need. */
export interface SidebandTarget {
  callId: string;
  /** `wss://…/realtime?call_id=` (for a WebSocket client such as `ws`). */
  url: string;
  /** The `https://` form with `Upgrade: websocket` and the key (for a Worker's `fetch`). */
  request: { url: string; headers: Record<string, string> };
}

export interface SidebandHandlers {
  /** A text frame from OpenAI. */
  message(frame: string): void;
  /** The socket closed or failed, whoever closed it; more than one call is harmless. */
  closed(reason: string): void;
}

export interface Sideband {
  send(frame: string): void;
  close(): void;
}

/**
 * Opens the sideband WebSocket; resolves once it is open. A refused upgrade
 * should be thrown as a `SidebandOpenError` with its HTTP status.
 */
export type OpenSideband = (target: SidebandTarget, handlers: SidebandHandlers) => Promise<Sideband>;

export class SidebandOpenError extends Error {
  override readonly name = 'SidebandOpenError';
  constructor(
    /** The HTTP status of the refused upgrade, 0 when none came. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What the room stores (a few short strings) while the agent is in the
 * meeting, and gives to `restore()` after its object was evicted: the Calls
 * session and its track stay, and so does the OpenAI call, for as long as
 * their media flows; only the sideband socket died with the object. A turn
 * in progress is lost: a restored agent is `listening`.
 */
export interface AgentSnapshot {
  sessionId: string;
  /** The mid of `ai-generated-voice` in the Calls session, to close it on removal. */
  mid: string;
  callId: string;
  track: TrackRef;
  state: AgentState;
}

export interface AgentOptions {
  calls: CallsClient;
  /**
   * The server's key, where OpenAI is (or the local stand-in), and how long
   * one request may take before it counts as lost (`timeoutMs`, default 10 s).
   */
  openai: OpenAiRealtimeOptions;
  /** Model (default `gpt-realtime`), voice and instructions. */
  session?: RealtimeSessionOptions;
  openSideband: OpenSideband;
  /** A label for the Calls session (the room's name, say). */
  correlationId?: string;
  onState?: (state: AgentState, reason?: string) => void;
  onCaption?: (caption: AgentCaption) => void;
  /**
   * Something went wrong that the agent survives: an `error` event on the
   * sideband (a turn too short to commit, say), or a cleanup step that failed.
   */
  onWarning?: (message: string) => void;
  /**
   * How many times `invite()` starts over with a new Calls session when OpenAI
   * or Calls may come back (default 3 in all), and the backoff between them.
   */
  retry?: Partial<RetryPolicy>;
  /** How long opening the sideband may take (default 10 s). */
  sidebandTimeoutMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What one invite made so far: torn down as a whole. */
interface Parts {
  sessionId?: string;
  mid?: string;
  /**
   * OpenAI's answer to the SFU's offer, until Calls has it. While an SFU offer
   * is unanswered Calls refuses every change of the session (406), a close
   * included: teardown gives it this answer first.
   */
  answer?: string;
  /** The SFU's offer was answered: the track can be closed. */
  answered?: boolean;
  callId?: string;
  sideband?: Link;
  /** Torn down: anything that arrives later is closed at once. */
  done?: boolean;
}

/** One sideband socket and whether we closed it ourselves. */
interface Link {
  socket?: Sideband;
  open: boolean;
  closedByUs: boolean;
  dropped: boolean;
}

interface Ready {
  sessionId: string;
  mid: string;
  callId: string;
}

const defaultInviteRetry: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 2_000 };
const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class Agent {
  readonly #options: AgentOptions;
  readonly #openai: OpenAiRealtimeClient;
  readonly #session: RealtimeSession;
  readonly #retry: RetryPolicy;
  #state: AgentState = 'idle';
  /** What the current (or last) invite made. */
  #parts: Parts = {};
  #ready: Ready | null = null;
  /** The sideband was reopened once already since the agent joined. */
  #reopened = false;
  #removed = false;
  #removing: Promise<void> | null = null;
  /** Operations `remove()` waits for before it tears down. */
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: AgentOptions) {
    this.#options = options;
    this.#openai = createOpenAiRealtimeClient(options.openai);
    this.#session = realtimeSession(options.session);
    const retry = { ...defaultInviteRetry, ...options.retry };
    this.#retry = { ...retry, attempts: Math.max(1, retry.attempts) };
  }

  get state(): AgentState {
    return this.#state;
  }

  /** What participants pull, while the agent is in the meeting. */
  get track(): TrackRef | null {
    return this.#ready && { sessionId: this.#ready.sessionId, trackName: AGENT_TRACK_NAME };
  }

  /** What to persist while the agent is in the meeting; null otherwise (persist nothing). */
  snapshot(): AgentSnapshot | null {
    const track = this.track;
    if (!this.#ready || !track) return null;
    return { ...this.#ready, track, state: this.#state };
  }

  /**
   * Brings the agent into the meeting; resolves with its track. Starts over
   * with a new Calls session (at most `retry.attempts` times in all) when
   * OpenAI or Calls failed in a way that may pass; throws an `AgentError`
   * after the state went `error` (or `ended`), with nothing left behind.
   * Allowed while `idle` or after an `error`.
   */
  invite(): Promise<TrackRef> {
    if (this.#state !== 'idle' && this.#state !== 'error')
      return Promise.reject(new AgentError('not-ready', `The AI cannot be invited while ${this.#state}`));
    return this.#inFlight(this.#invite());
  }

  /**
   * Takes back an agent from a snapshot (after the room's object was
   * evicted) and reopens its sideband. If that fails, the call and the track
   * are ended and the state goes `error`. Allowed while `idle`.
   */
  restore(snapshot: AgentSnapshot): Promise<TrackRef> {
    if (this.#state !== 'idle')
      return Promise.reject(new AgentError('not-ready', `The AI cannot be restored while ${this.#state}`));
    return this.#inFlight(this.#restore(snapshot));
  }

  /**
   * Pulls `source` (the push-to-talk holder's microphone) into the agent's
   * track and clears what the model heard before. `not-found` when the source
   * is not publishing.
   */
  async startTalking(source: TrackRef): Promise<void> {
    const ready = this.#requireReady();
    let pulled;
    try {
      pulled = await this.#options.calls.pullInto(ready.sessionId, source, AGENT_TRACK_NAME);
    } catch (error) {
      if (error instanceof CallsError && error.kind === 'gone')
        void this.#inFlight(this.#fail(this.#parts, `The AI's Calls session is gone: ${error.message}`));
      throw new AgentError('unavailable', `The AI could not hear ${source.trackName}: ${messageOf(error)}`);
    }
    const { errorCode, errorDescription } = pulled.track;
    if (errorCode === 'not_found_track_error')
      throw new AgentError(
        'not-found',
        `The track ${source.sessionId}/${source.trackName} is not publishing`,
      );
    if (errorCode)
      throw new AgentError(
        'rejected',
        `Calls refused to pass ${source.trackName} to the AI: ${errorCode} ${errorDescription ?? ''}`.trim(),
      );
    this.#send({ type: 'input_audio_buffer.clear' });
  }

  /** Ends the holder's turn: the model answers what it heard since `startTalking`. */
  stopTalking(): void {
    this.#requireReady();
    this.#send({ type: 'input_audio_buffer.commit' });
    this.#send({ type: 'response.create' });
  }

  /**
   * Hangs up the OpenAI call, closes the sideband and the agent's Calls
   * track. Safe in any state and more than once; never throws. Resolves once
   * nothing of the agent is left (as far as OpenAI and Calls answered).
   */
  remove(): Promise<void> {
    this.#removing ??= this.#remove();
    return this.#removing;
  }

  async #remove(): Promise<void> {
    this.#removed = true;
    this.#ready = null;
    this.#setState('ended');
    await Promise.allSettled([...this.#pending]);
    await this.#teardown(this.#parts);
  }

  /** Kept for `remove()` to wait for. */
  #inFlight<T>(operation: Promise<T>): Promise<T> {
    this.#pending.add(operation);
    const forget = () => this.#pending.delete(operation);
    operation.then(forget, forget);
    return operation;
  }

  async #invite(): Promise<TrackRef> {
    this.#setState('connecting');
    this.#reopened = false;
    for (let attempt = 1; ; attempt++) {
      const parts: Parts = {};
      this.#parts = parts;
      try {
        const ready = await this.#join(parts);
        return this.#enter(ready);
      } catch (error) {
        await this.#teardown(parts);
        this.#checkRemoved();
        const failure = classify(error);
        if (!failure.retry || attempt >= this.#retry.attempts) {
          this.#setState('error', failure.message);
          throw new AgentError(failure.code, failure.message);
        }
        const random = this.#options.random ?? Math.random;
        await (this.#options.sleep ?? sleepFor)(
          backoffDelay(this.#retry, attempt, random, failure.retryAfterMs),
        );
        this.#checkRemoved();
      }
    }
  }

  /** One try: every part is recorded in `parts` as soon as it exists, for `#teardown`. */
  async #join(parts: Parts): Promise<Ready> {
    const { calls, correlationId } = this.#options;
    const sessionId = await calls.newSession({
      thirdparty: true,
      ...(correlationId ? { correlationId } : {}),
    });
    parts.sessionId = sessionId;
    this.#checkRemoved();
    const offered = await calls.offerLocalTracks(sessionId, [
      { trackName: AGENT_TRACK_NAME, kind: 'audio', bidirectionalMediaStream: true },
    ]);
    const item = offered.tracks[0];
    if (item?.mid) parts.mid = item.mid;
    this.#checkRemoved();
    if (!offered.offer || !item?.mid)
      throw new AgentError(
        'rejected',
        `Calls made no offer for the AI's track: ${item?.errorCode ?? offered.errorCode ?? 'no track'} ${item?.errorDescription ?? ''}`.trim(),
      );
    const mid = item.mid;
    const call = await this.#openai.createCall({ sdp: offered.offer.sdp, session: this.#session });
    parts.callId = call.callId;
    parts.answer = call.sdp;
    this.#checkRemoved();
    await calls.renegotiate(sessionId, { type: 'answer', sdp: call.sdp });
    parts.answered = true;
    this.#checkRemoved();
    await this.#connectSideband(parts, call.callId);
    return { sessionId, mid, callId: call.callId };
  }

  async #restore(snapshot: AgentSnapshot): Promise<TrackRef> {
    this.#setState('connecting');
    this.#reopened = false;
    const parts: Parts = {
      sessionId: snapshot.sessionId,
      mid: snapshot.mid,
      callId: snapshot.callId,
      answered: true,
    };
    this.#parts = parts;
    try {
      await this.#connectSideband(parts, snapshot.callId);
    } catch (error) {
      await this.#teardown(parts);
      this.#checkRemoved();
      const { code, message } = classify(error);
      const reason = `The AI could not be taken back: ${message}`;
      this.#setState('error', reason);
      throw new AgentError(code, reason);
    }
    return this.#enter({ sessionId: snapshot.sessionId, mid: snapshot.mid, callId: snapshot.callId });
  }

  #enter(ready: Ready): TrackRef {
    this.#ready = ready;
    this.#setState('listening');
    return { sessionId: ready.sessionId, trackName: AGENT_TRACK_NAME };
  }

  /** Opens the sideband of `callId` as `parts.sideband`; closed at once if `parts` was torn down meanwhile. */
  async #connectSideband(parts: Parts, callId: string): Promise<void> {
    const link: Link = { open: false, closedByUs: false, dropped: false };
    const target: SidebandTarget = {
      callId,
      url: this.#openai.sidebandUrl(callId),
      request: this.#openai.sidebandRequest(callId),
    };
    const opening = this.#options.openSideband(target, {
      message: (frame) => {
        if (!link.closedByUs && !link.dropped && this.#parts === parts) this.#onFrame(frame);
      },
      closed: (reason) => {
        if (!link.open || link.closedByUs || link.dropped) return;
        link.dropped = true;
        if (this.#parts === parts && parts.sideband === link) this.#onDropped(parts, reason);
      },
    });
    const timeoutMs = this.#options.sidebandTimeoutMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SidebandOpenError(0, `The sideband did not open within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    // One that opens after all is closed at once.
    opening.then((late) => link.closedByUs && late.close(), ignore);
    try {
      link.socket = await Promise.race([opening, timedOut]);
    } catch (error) {
      link.closedByUs = true;
      throw error;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    link.open = true;
    if (parts.done || this.#removed) {
      link.closedByUs = true;
      link.socket.close();
      throw new AgentError('ended', 'The AI was removed while its sideband opened');
    }
    parts.sideband = link;
  }

  /** A sideband that dropped: reopened once in the agent's life, then the agent leaves with `error`. */
  #onDropped(parts: Parts, reason: string): void {
    delete parts.sideband;
    if (!this.#ready || this.#removed) return;
    if (this.#reopened) {
      void this.#inFlight(this.#fail(parts, `The AI's control connection dropped again (${reason})`));
      return;
    }
    this.#reopened = true;
    const { callId } = this.#ready;
    const reopening = this.#connectSideband(parts, callId).then(
      () => {
        // Events of a turn in progress may be lost with the old socket.
        if (this.#ready) this.#setState('listening');
      },
      (error: unknown) => {
        if (!this.#removed)
          void this.#inFlight(
            this.#fail(
              parts,
              `The AI's control connection dropped and could not be reopened: ${messageOf(error)}`,
            ),
          );
      },
    );
    void this.#inFlight(reopening);
  }

  /** Leaves for good after a failure in the meeting: everything is torn down, then `error`. */
  async #fail(parts: Parts, reason: string): Promise<void> {
    if (this.#parts !== parts || parts.done || this.#removed) return;
    this.#ready = null;
    await this.#teardown(parts);
    if (!this.#removed) this.#setState('error', reason);
  }

  #onFrame(frame: string): void {
    const event = parseServerEvent(frame);
    const inMeeting = this.#ready !== null;
    switch (event.type) {
      case 'session.created':
        // Push-to-talk needs turn detection off; OpenAI's default is on.
        if (event.session.audio?.input?.turn_detection !== null)
          this.#trySend({
            type: 'session.update',
            session: { type: 'realtime', audio: { input: { turn_detection: null } } },
          });
        return;
      case 'response.created':
        if (inMeeting) this.#setState('thinking');
        return;
      case 'output_audio_buffer.started':
        if (inMeeting) this.#setState('speaking');
        return;
      case 'output_audio_buffer.stopped':
        if (inMeeting) this.#setState('listening');
        return;
      case 'response.done':
        // The answer may still be playing: `output_audio_buffer.stopped` ends `speaking`.
        if (inMeeting && this.#state === 'thinking') this.#setState('listening');
        return;
      case 'response.output_audio_transcript.delta':
        return this.#emit(() => this.#options.onCaption?.({ text: event.delta, final: false }));
      case 'response.output_audio_transcript.done':
        return this.#emit(() => this.#options.onCaption?.({ text: event.transcript, final: true }));
      case 'error':
        return this.#warn(
          `OpenAI: ${event.error.message}${event.error.code ? ` (${event.error.code})` : ''}`,
        );
      default:
        return;
    }
  }

  #requireReady(): Ready {
    if (this.#removed) throw new AgentError('ended', 'The AI was removed');
    if (!this.#ready) throw new AgentError('not-ready', `The AI is not in the meeting (${this.#state})`);
    return this.#ready;
  }

  #checkRemoved(): void {
    if (this.#removed) throw new AgentError('ended', 'The AI was removed while it was joining');
  }

  #send(event: ClientEvent): void {
    const socket = this.#parts.sideband?.socket;
    if (!socket) throw new AgentError('not-ready', 'The AI’s control connection is being reopened');
    socket.send(JSON.stringify(event));
  }

  #trySend(event: ClientEvent): void {
    try {
      this.#send(event);
    } catch (error) {
      this.#warn(`Could not send ${event.type}: ${messageOf(error)}`);
    }
  }

  /**
   * Closes the sideband, hangs up and closes the Calls track; failures are
   * warned about, never thrown. A Calls session whose offer got no answer
   * from OpenAI (the call failed) cannot be changed at all: it never
   * connects, and Calls ends it after its connect window.
   */
  async #teardown(parts: Parts): Promise<void> {
    parts.done = true;
    const { sideband, callId, sessionId, mid, answer, answered } = parts;
    delete parts.sideband;
    delete parts.callId;
    delete parts.sessionId;
    if (sideband) {
      sideband.closedByUs = true;
      try {
        sideband.socket?.close();
      } catch (error) {
        this.#warn(`Closing the sideband: ${messageOf(error)}`);
      }
    }
    await Promise.all([
      callId &&
        this.#openai.hangup(callId).catch((error: unknown) => {
          this.#warn(`Hanging up the OpenAI call ${callId}: ${messageOf(error)}`);
        }),
      sessionId &&
        mid &&
        (answered || answer !== undefined) &&
        this.#closeTrack(sessionId, mid, answered ? undefined : answer).catch((error: unknown) => {
          this.#warn(`Closing the AI's Calls track: ${messageOf(error)}`);
        }),
    ]);
  }

  /** Force-closes the agent's track, after giving Calls the answer it still waits for. */
  async #closeTrack(sessionId: string, mid: string, pendingAnswer: string | undefined): Promise<void> {
    const { calls } = this.#options;
    if (pendingAnswer !== undefined)
      await calls.renegotiate(sessionId, { type: 'answer', sdp: pendingAnswer });
    const closed = await calls.closeTracks(sessionId, [mid]);
    const open = closed.tracks.filter((track) => !track.closed);
    if (open.length > 0)
      throw new Error(
        `still open: ${open.map((track) => `${track.mid} ${track.errorCode ?? ''}`).join(', ')}`,
      );
  }

  #setState(state: AgentState, reason?: string): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit(() => this.#options.onState?.(state, reason));
  }

  #warn(message: string): void {
    this.#emit(() => this.#options.onWarning?.(message));
  }

  /** A listener that throws must not break the agent's own bookkeeping. */
  #emit(call: () => void): void {
    try {
      call();
    } catch {
      // The listener's own failure; nothing the agent can do about it.
    }
  }
}

const ignore = () => undefined;

interface Failure {
  retry: boolean;
  code: AgentErrorCode;
  message: string;
  retryAfterMs: number;
}

/** What a failed invite step means: start over with a new Calls session, or stop. */
function classify(error: unknown): Failure {
  const message = messageOf(error);
  if (error instanceof AgentError) return { retry: false, code: error.code, message, retryAfterMs: 0 };
  if (error instanceof OpenAiError) {
    if (error.kind === 'auth')
      return {
        retry: false,
        code: 'auth',
        message: `OpenAI refused the server's API key (${error.status}): ${message}`,
        retryAfterMs: 0,
      };
    if (error.kind === 'rejected') return { retry: false, code: 'rejected', message, retryAfterMs: 0 };
    return { retry: true, code: 'unavailable', message, retryAfterMs: error.retryAfterMs };
  }
  if (error instanceof CallsError) {
    if (error.kind === 'rejected') return { retry: false, code: 'rejected', message, retryAfterMs: 0 };
    return { retry: true, code: 'unavailable', message, retryAfterMs: error.retryAfterMs };
  }
  if (error instanceof SidebandOpenError && (error.status === 401 || error.status === 403))
    return {
      retry: false,
      code: 'auth',
      message: `OpenAI refused the server's API key on the sideband (${error.status}): ${message}`,
      retryAfterMs: 0,
    };
  return { retry: true, code: 'unavailable', message, retryAfterMs: 0 };
}
