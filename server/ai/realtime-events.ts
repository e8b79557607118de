/**
 * The OpenAI Realtime (GA) events Meetkit uses on the sideband WebSocket, as
 * zod schemas (CALLS-API.md, "OpenAI Realtime over WebRTC"). The Worker
 * parses server events and sends client events with them; the local
 * stand-in in `server/local/realtime/` parses client events and sends server
 * events with them, so both ends keep to one contract. Objects are loose:
 * OpenAI adds fields, and a field we do not read must never fail a parse.
 */
import * as z from 'zod/mini';

/** `session` of `session.update` / `session.created`: the fields Meetkit sets; the rest pass through. */
export const realtimeSession = z.looseObject({
  type: z.literal('realtime'),
  model: z.optional(z.string()),
  instructions: z.optional(z.string()),
  output_modalities: z.optional(z.array(z.enum(['text', 'audio']))),
  audio: z.optional(
    z.looseObject({
      input: z.optional(
        z.looseObject({
          /** `null`: no voice activity detection; the client commits each turn (push-to-talk). */
          turn_detection: z.optional(z.nullable(z.looseObject({ type: z.string() }))),
        }),
      ),
      output: z.optional(z.looseObject({ voice: z.optional(z.string()) })),
    }),
  ),
});
export type RealtimeSession = z.infer<typeof realtimeSession>;

const clientEventId = { event_id: z.optional(z.string()) };

// Client events (Meetkit → OpenAI).

export const sessionUpdate = z.object({
  type: z.literal('session.update'),
  session: realtimeSession,
  ...clientEventId,
});

/** Drops the audio heard since the last commit: a new push-to-talk turn starts clean. */
export const inputAudioBufferClear = z.object({
  type: z.literal('input_audio_buffer.clear'),
  ...clientEventId,
});

/** Ends the user's turn: what was heard becomes a conversation item. */
export const inputAudioBufferCommit = z.object({
  type: z.literal('input_audio_buffer.commit'),
  ...clientEventId,
});

export const responseCreate = z.object({
  type: z.literal('response.create'),
  response: z.optional(z.looseObject({})),
  ...clientEventId,
});

export const clientEvent = z.discriminatedUnion('type', [
  sessionUpdate,
  inputAudioBufferClear,
  inputAudioBufferCommit,
  responseCreate,
]);
export type ClientEvent = z.infer<typeof clientEvent>;

// Server events (OpenAI → Meetkit).

const serverEventId = { event_id: z.string() };

export const sessionCreated = z.object({
  type: z.literal('session.created'),
  session: realtimeSession,
  ...serverEventId,
});

export const sessionUpdated = z.object({
  type: z.literal('session.updated'),
  session: realtimeSession,
  ...serverEventId,
});

export const inputAudioBufferCommitted = z.object({
  type: z.literal('input_audio_buffer.committed'),
  item_id: z.string(),
  previous_item_id: z.optional(z.nullable(z.string())),
  ...serverEventId,
});

/** The parts of a response object Meetkit reads. */
const realtimeResponse = z.looseObject({
  id: z.optional(z.string()),
  object: z.optional(z.literal('realtime.response')),
  status: z.optional(z.enum(['completed', 'cancelled', 'failed', 'incomplete', 'in_progress'])),
});

export const responseCreated = z.object({
  type: z.literal('response.created'),
  response: realtimeResponse,
  ...serverEventId,
});

/** Where a transcript piece belongs in the response. */
const transcriptPosition = {
  response_id: z.string(),
  item_id: z.string(),
  output_index: z.number(),
  content_index: z.number(),
};

/** A piece of what the model is saying: captions are built from these. */
export const responseOutputAudioTranscriptDelta = z.object({
  type: z.literal('response.output_audio_transcript.delta'),
  delta: z.string(),
  ...transcriptPosition,
  ...serverEventId,
});

export const responseOutputAudioTranscriptDone = z.object({
  type: z.literal('response.output_audio_transcript.done'),
  transcript: z.string(),
  ...transcriptPosition,
  ...serverEventId,
});

export const responseDone = z.object({
  type: z.literal('response.done'),
  response: realtimeResponse,
  ...serverEventId,
});

/**
 * WebRTC only: the call's outgoing audio started playing, and (after
 * `response.done`) finished playing: when the agent is heard speaking.
 */
export const outputAudioBufferStarted = z.object({
  type: z.literal('output_audio_buffer.started'),
  response_id: z.string(),
  ...serverEventId,
});

export const outputAudioBufferStopped = z.object({
  type: z.literal('output_audio_buffer.stopped'),
  response_id: z.string(),
  ...serverEventId,
});

export const realtimeError = z.looseObject({
  type: z.string(),
  message: z.string(),
  code: z.optional(z.nullable(z.string())),
  param: z.optional(z.nullable(z.string())),
  /** The client event that caused it, when it had an `event_id`. */
  event_id: z.optional(z.nullable(z.string())),
});

export const errorEvent = z.object({
  type: z.literal('error'),
  error: realtimeError,
  ...serverEventId,
});

const serverEvents = [
  sessionCreated,
  sessionUpdated,
  inputAudioBufferCommitted,
  responseCreated,
  responseOutputAudioTranscriptDelta,
  responseOutputAudioTranscriptDone,
  responseDone,
  outputAudioBufferStarted,
  outputAudioBufferStopped,
  errorEvent,
] as const;
export const serverEvent = z.discriminatedUnion('type', serverEvents);
export type ServerEvent = z.infer<typeof serverEvent>;

/**
 * A server event Meetkit does not use (OpenAI sends many: `rate_limits.updated`,
 * `conversation.item.*`, `output_audio_buffer.*`, …), or one that does not
 * match its schema. Callers ignore it; `reason` is for logs.
 */
export interface IgnoredServerEvent {
  type: 'ignored';
  /** The event's own `type`, when it had one. */
  eventType: string | undefined;
  reason: string;
}

const knownServerTypes: ReadonlySet<string> = new Set(
  serverEvents.flatMap((schema) => [...schema.shape.type._zod.values]),
);

/** One sideband text frame from OpenAI. Never throws. */
export function parseServerEvent(frame: string): ServerEvent | IgnoredServerEvent {
  const data = parseJson(frame);
  const eventType = typeOf(data);
  if (eventType === undefined || !knownServerTypes.has(eventType))
    return { type: 'ignored', eventType, reason: data === undefined ? 'not JSON' : 'not an event we use' };
  const result = serverEvent.safeParse(data);
  if (result.success) return result.data;
  return { type: 'ignored', eventType, reason: describeIssue(result.error) };
}

export type ClientEventResult =
  | { ok: true; event: ClientEvent }
  | { ok: false; reason: string; eventType: string | undefined; eventId: string | undefined };

/** One sideband text frame from a client (the local stand-in's side). Never throws. */
export function parseClientEvent(frame: string): ClientEventResult {
  const data = parseJson(frame);
  const result = clientEvent.safeParse(data);
  if (result.success) return { ok: true, event: result.data };
  const eventId = (data as { event_id?: unknown } | undefined)?.event_id;
  return {
    ok: false,
    reason: data === undefined ? 'The message is not valid JSON' : describeIssue(result.error),
    eventType: typeOf(data),
    eventId: typeof eventId === 'string' ? eventId : undefined,
  };
}

function parseJson(frame: string): unknown {
  try {
    return JSON.parse(frame) as unknown;
  } catch {
    return undefined;
  }
}

function typeOf(data: unknown): string | undefined {
  const type = typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type : undefined;
}

function describeIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  return `${issue?.message ?? 'Invalid event'}${where}`;
}
