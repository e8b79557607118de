import * as z from 'zod/mini';
import { NAME_MAX_LENGTH, PICTURE_URL_MAX_LENGTH } from './limits.js';

/** Connection ids are chosen by the server; clients only echo them back. */
export const participantId = z.string().check(z.minLength(1), z.maxLength(64));

/** What a person may be: what a join token may grant. */
export const personRole = z.enum(['host', 'guest']);
export type PersonRole = z.infer<typeof personRole>;

/** `agent`: the room's AI, brought in by `ai-invite`; never a person, never a host. */
export const role = z.enum([...personRole.options, 'agent']);
export type Role = z.infer<typeof role>;

// Control characters would let a name break the layout of other people's
// screens (or hide itself); everything else is rendered as text, never HTML.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Bidirectional controls (embeddings, overrides, isolates and marks) make a
 * name display as something else ("U+202E" turns "Ann\u202Etxt.exe" around)
 * and can reorder the text around it.
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * What a reader can see: anything but separators, format characters
 * (zero-width spaces and joiners), combining marks alone, and the few letters
 * that render as nothing (Hangul fillers, the braille blank, the Mongolian
 * vowel separator).
 */
const VISIBLE = /[^\p{Z}\p{Cc}\p{Cf}\p{M}\u115f\u1160\u180e\u2800\u3164\uffa0]/u;

/** A display name: trimmed, 1–64 characters, something visible, no control or bidi characters. */
export const displayName = z.pipe(
  z.string().check(z.trim()),
  z.string().check(
    z.minLength(1, 'Name must not be empty'),
    z.maxLength(NAME_MAX_LENGTH, `Name must be at most ${NAME_MAX_LENGTH} characters`),
    z.refine((name) => !CONTROL_CHARACTERS.test(name), 'Name must not contain control characters'),
    z.refine(
      (name) => !BIDI_CONTROLS.test(name),
      'Name must not contain text-direction characters (such as U+202E)',
    ),
    z.refine((name) => VISIBLE.test(name), 'Name must have at least one visible character'),
  ),
);

/** Hosts that reach only the machine itself: a picture there exists only in development. */
export const isLoopbackHost = (hostname: string) => ['127.0.0.1', '[::1]', 'localhost'].includes(hostname);

/**
 * Where a participant's picture may come from: `https:`, or `http:` on a
 * loopback host (a local directory or image server in development; the
 * Worker lets those through only while it is itself served from loopback).
 * Never credentials in the URL: every viewer's browser would send them, and
 * never `data:` or `javascript:`.
 */
export const pictureUrl = z.string().check(
  z.maxLength(PICTURE_URL_MAX_LENGTH, `Picture URL must be at most ${PICTURE_URL_MAX_LENGTH} characters`),
  z.refine((value) => {
    try {
      const url = new URL(value);
      if (url.username || url.password) return false;
      return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
    } catch {
      return false;
    }
  }, 'Picture must be an https: URL without credentials'),
);

/**
 * Published media, as `sessionId/trackName` in the Calls session that carries
 * it. Empty until the media work lands; present now so the shape is stable.
 */
export const trackRef = z.string().check(z.regex(/^[0-9a-f]{1,64}\/[A-Za-z0-9._~-]{1,64}$/));
export const tracks = z.object({
  microphone: z.optional(trackRef),
  camera: z.optional(trackRef),
  screen: z.optional(trackRef),
});

/** What a participant may change about themselves. */
export const participantState = z.object({
  microphone: z.boolean(),
  camera: z.boolean(),
  handRaised: z.boolean(),
  tracks,
});
export type ParticipantState = z.infer<typeof participantState>;

/** What the AI agent is doing; only the `agent` participant has it. */
export const aiState = z.enum(['connecting', 'listening', 'thinking', 'speaking', 'error']);
export type AiState = z.infer<typeof aiState>;

export const participant = z.object({
  id: participantId,
  name: displayName,
  role,
  /** Milliseconds since the epoch, from the server's clock. */
  joinedAt: z.number().check(z.int(), z.nonnegative()),
  /** From their join token or the site's user directory, never from the browser. */
  picture: z.optional(pictureUrl),
  /**
   * Set by the room while their connection is down: they keep their place
   * (id, role, media) for `RESUME_GRACE_MS` and come back where they were.
   */
  reconnecting: z.optional(z.boolean()),
  /** Only for `role: 'agent'`; its voice is `tracks.microphone`, pulled like anyone's. */
  aiState: z.optional(aiState),
  ...participantState.shape,
});
export type Participant = z.infer<typeof participant>;

/** What a host may change about someone else (removing them is `remove-participant`). */
export const moderationAction = z.enum(['mute', 'camera-off', 'lower-hand', 'make-host']);
export type ModerationAction = z.infer<typeof moderationAction>;

/** What each host action changes about its target, at the server and at every client. */
export const MODERATION_CHANGES = {
  mute: { microphone: false },
  'camera-off': { camera: false },
  'lower-hand': { handRaised: false },
  'make-host': { role: 'host' },
} as const satisfies Record<ModerationAction, Partial<Participant>>;

export const meeting = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  startedAt: z.number().check(z.int(), z.nonnegative()),
});
export type Meeting = z.infer<typeof meeting>;
