/**
 * Numbers both ends agree on. The server enforces them; the client uses them
 * to validate before sending, so a user sees a clear message instead of a
 * round trip that ends in an `error`.
 */

/**
 * Bumped whenever a message changes shape in a way an older peer cannot read
 * (3: the AI agent's role; 4: host moderation, `participant-moderated` and
 * the leave reason `removed`).
 */
export const PROTOCOL_VERSION = 4;

/** Room names: letters, digits, `-` and `_`, at most 64 characters. */
export const ROOM_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const NAME_MAX_LENGTH = 64;

/** A participant's picture URL, in characters: a CDN URL with a signature fits; a `data:` image would not. */
export const PICTURE_URL_MAX_LENGTH = 2048;

/** Frames larger than this are refused (`too-large`), before parsing. */
export const MAX_FRAME_BYTES = 16 * 1024;

export const DIRECT_MESSAGE_MAX_LENGTH = 8 * 1024;

/**
 * The client sends `ping` this often; the server answers `pong` without
 * waking from hibernation, and sweeps connections silent for longer than
 * `HEARTBEAT_TIMEOUT_MS`.
 */
export const HEARTBEAT_INTERVAL_MS = 5_000;
export const HEARTBEAT_TIMEOUT_MS = 15_000;

/**
 * The exact heartbeat frames. They must be byte-for-byte fixed because the
 * Durable Object answers them with `setWebSocketAutoResponse`, which matches
 * the request string exactly.
 */
export const PING_FRAME = '{"type":"ping"}';
export const PONG_FRAME = '{"type":"pong"}';

/**
 * A client that hears nothing (no pong, no message) for this long treats its
 * connection as dead and reconnects, instead of looking connected on a path
 * that silently drops packets.
 */
export const SILENCE_TIMEOUT_MS = 12_000;

/**
 * How long the room keeps a participant whose connection dropped (not one
 * that said goodbye): coming back within it resumes them as they were.
 */
export const RESUME_GRACE_MS = 30_000;

/**
 * Query parameter of the room socket for resuming: `<participantId>.<resumeKey>`,
 * with the key the room sent in this participant's snapshot.
 */
export const RESUME_PARAM = 'resume';
