/**
 * One call of the local realtime stand-in: its media (a werift peer), its
 * session, the sideband WebSockets joined to it, and the conversation they
 * drive. A committed turn is answered at once (the "model" takes no time):
 * the answer repeats the caller's own audio of that turn, with a transcript
 * saying how long it was.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import {
  parseClientEvent,
  type ClientEvent,
  type RealtimeSession,
  type ServerEvent,
} from '../../ai/realtime-events.js';
import { CallMedia, heardSeconds, type HeardPacket } from './call-media.js';

/** OpenAI refuses to commit less audio than this. */
const MIN_COMMIT_SECONDS = 0.1;

export interface CallCounters {
  audioPacketsReceived: number;
  audioPacketsSent: number;
  /** Client events received on sidebands, malformed ones included. */
  eventsReceived: number;
  eventsSent: number;
}

/** Server events OpenAI sends that Meetkit does not read; sent all the same. */
type OtherServerEvent = { type: 'input_audio_buffer.cleared'; event_id: string };

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

export class LocalRealtimeCall {
  readonly id = newId('rtc');
  readonly media: CallMedia;
  readonly sidebands = new Set<WebSocket>();
  closed = false;
  /** The last committed turn, until a response answers it. */
  #committed: { itemId: string; packets: HeardPacket[] } | null = null;
  #lastItemId: string | null = null;
  #playingResponseId: string | null = null;
  readonly #connectTimer: ReturnType<typeof setTimeout>;

  constructor(
    public session: RealtimeSession,
    private readonly counters: CallCounters,
    private readonly onClosed: (call: LocalRealtimeCall) => void,
    connectWindowMs: number,
  ) {
    // A peer that goes away, or never connects, ends the call (as OpenAI ends it).
    this.media = new CallMedia(
      (direction) => {
        if (direction === 'received') counters.audioPacketsReceived++;
        else counters.audioPacketsSent++;
      },
      () => this.close(),
    );
    this.#connectTimer = setTimeout(() => this.close(), connectWindowMs);
    this.media.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') clearTimeout(this.#connectTimer);
    });
  }

  /** Joins a sideband WebSocket: it gets `session.created`, then every event of the call. */
  attach(socket: WebSocket): void {
    this.sidebands.add(socket);
    socket.on('close', () => this.sidebands.delete(socket));
    socket.on('message', (data, isBinary) => {
      this.counters.eventsReceived++;
      if (isBinary) return this.#sendError(socket, 'invalid_request_error', 'Binary frames are not events');
      this.#handle(socket, rawText(data));
    });
    this.#send(socket, { type: 'session.created', event_id: newId('event'), session: this.session });
  }

  #handle(socket: WebSocket, frame: string): void {
    const parsed = parseClientEvent(frame);
    if (!parsed.ok)
      return this.#sendError(socket, 'invalid_request_error', parsed.reason, 'invalid_event', parsed.eventId);
    const event: ClientEvent = parsed.event;
    switch (event.type) {
      case 'session.update':
        this.session = mergeSession(this.session, event.session);
        return this.#broadcast({ type: 'session.updated', event_id: newId('event'), session: this.session });
      case 'input_audio_buffer.clear':
        this.media.takeHeard();
        return this.#broadcast({ type: 'input_audio_buffer.cleared', event_id: newId('event') });
      case 'input_audio_buffer.commit':
        return this.#commit(socket, event.event_id);
      case 'response.create':
        return this.#respond();
    }
  }

  #commit(socket: WebSocket, eventId: string | undefined): void {
    const packets = this.media.takeHeard();
    const seconds = heardSeconds(packets);
    if (seconds < MIN_COMMIT_SECONDS) {
      return this.#sendError(
        socket,
        'invalid_request_error',
        `Error committing input audio buffer: buffer too small. Expected at least ${MIN_COMMIT_SECONDS * 1_000}ms of audio, but buffer only has ${(seconds * 1_000).toFixed(2)}ms of audio.`,
        'input_audio_buffer_commit_empty',
        eventId,
      );
    }
    const itemId = newId('item');
    this.#broadcast({
      type: 'input_audio_buffer.committed',
      event_id: newId('event'),
      item_id: itemId,
      previous_item_id: this.#lastItemId,
    });
    this.#lastItemId = itemId;
    this.#committed = { itemId, packets };
  }

  /**
   * Answers the last committed turn: the transcript and `response.done` at
   * once, then the audio, paced; `output_audio_buffer.stopped` when it has
   * all been played.
   */
  #respond(): void {
    const turn = this.#committed;
    this.#committed = null;
    const responseId = newId('resp');
    const itemId = newId('item');
    const seconds = heardSeconds(turn?.packets ?? []);
    const transcript = turn ? `I heard you for ${seconds.toFixed(1)} seconds.` : 'I heard nothing.';
    const response = {
      id: responseId,
      object: 'realtime.response' as const,
      output_modalities: ['audio'],
    };
    this.#broadcast({
      type: 'response.created',
      event_id: newId('event'),
      response: { ...response, status: 'in_progress', output: [] },
    });
    if (turn) {
      this.media.play(turn.packets, () => {
        if (this.#playingResponseId !== responseId) return;
        this.#playingResponseId = null;
        this.#broadcast({
          type: 'output_audio_buffer.stopped',
          event_id: newId('event'),
          response_id: responseId,
        });
      });
      this.#playingResponseId = responseId;
      this.#broadcast({
        type: 'output_audio_buffer.started',
        event_id: newId('event'),
        response_id: responseId,
      });
    }
    const position = { response_id: responseId, item_id: itemId, output_index: 0, content_index: 0 };
    for (const delta of transcript.split(/(?=\s)/))
      this.#broadcast({
        type: 'response.output_audio_transcript.delta',
        event_id: newId('event'),
        delta,
        ...position,
      });
    this.#broadcast({
      type: 'response.output_audio_transcript.done',
      event_id: newId('event'),
      transcript,
      ...position,
    });
    this.#lastItemId = itemId;
    this.#broadcast({
      type: 'response.done',
      event_id: newId('event'),
      response: {
        ...response,
        status: 'completed',
        output: [
          {
            id: itemId,
            type: 'message',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_audio', transcript }],
          },
        ],
      },
    });
  }

  #sendError(
    socket: WebSocket,
    type: string,
    message: string,
    code: string | null = null,
    eventId: string | undefined = undefined,
  ): void {
    this.#send(socket, {
      type: 'error',
      event_id: newId('event'),
      error: { type, code, message, param: null, event_id: eventId ?? null },
    });
  }

  #broadcast(event: ServerEvent | OtherServerEvent): void {
    for (const socket of this.sidebands) this.#send(socket, event);
  }

  #send(socket: WebSocket, event: ServerEvent | OtherServerEvent): void {
    if (socket.readyState !== socket.OPEN) return;
    this.counters.eventsSent++;
    socket.send(JSON.stringify(event));
  }

  /** Ends the call: the peer, the playback, and every sideband (closed normally). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.#connectTimer);
    this.media.close();
    for (const socket of this.sidebands) socket.close(1000, 'call ended');
    this.sidebands.clear();
    this.onClosed(this);
  }
}

/** `session.update` changes what it names; `audio.input` and `audio.output` merge one level down. */
function mergeSession(session: RealtimeSession, update: RealtimeSession): RealtimeSession {
  return {
    ...session,
    ...update,
    audio: {
      ...session.audio,
      ...update.audio,
      input: { ...session.audio?.input, ...update.audio?.input },
      output: { ...session.audio?.output, ...update.audio?.output },
    },
  };
}

function rawText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}
