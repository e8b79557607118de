/**
 * Numbers both ends agree on. The server enforces them; the client uses them
 * to validate before sending, so a user sees a clear message instead of a
 * round trip that ends in an `error`.
 */

/** Bumped whenever a message changes shape in a way an older peer cannot read. */
export const PROTOCOL_VERSION = 1;

/** Room names: letters, digits, `-` and `_`, at most 64 characters. */
export const ROOM_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const NAME_MAX_LENGTH = 64;

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
