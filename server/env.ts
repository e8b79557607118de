import type { Room } from './room/room.js';

/** Bindings and variables the Worker and the Room read (wrangler.jsonc, `.dev.vars`, secrets). */
export interface Env {
  ASSETS: Fetcher;
  Room: DurableObjectNamespace<Room>;
  /** The delivery queue (wrangler.jsonc): webhook events and feedback on their way out. */
  DELIVERIES: Queue;
  /** Its dead-letter queue: what could not be delivered, on its way to the room's records. */
  DELIVERIES_DEAD: Queue;
  /**
   * When set, joining a room and `GET /api/rooms/<name>` need an HS256 join
   * token for that room signed with it; the Worker checks it before the room
   * is touched. A secret: `wrangler secret put JOIN_SECRET`.
   */
  JOIN_SECRET?: string;
  /**
   * The longest a join token may live, in seconds (default 86400, 24 h): tokens
   * whose expiry is further than this from their issue time or from now are
   * refused. A value that is not a positive whole number keeps the default.
   * `npm run token` reads the same variable and refuses a longer `--ttl`.
   */
  JOIN_TOKEN_MAX_TTL_SECONDS?: string;
  /**
   * The site's user directory: with it, a join token's `sub` is looked up at
   * `GET <USER_DIRECTORY_URL>/<sub>`, which answers `{ "name": string,
   * "picture"?: string }` with the name and picture people see. Answers are
   * cached for a minute; when the directory fails (down, 2 s without an
   * answer, 5xx, 404, an answer without a valid name) the token's own `name`
   * and `picture` are used. Tokens without `sub` are not looked up; without
   * `JOIN_SECRET` there are no tokens, so no lookups either.
   */
  USER_DIRECTORY_URL?: string;
  /**
   * Sent to the directory as `Authorization: Bearer <token>`, never to
   * browsers. A secret: `wrangler secret put USER_DIRECTORY_TOKEN`.
   */
  USER_DIRECTORY_TOKEN?: string;
  /** Comma-separated origins allowed to open rooms and call the API; unset means any. */
  ALLOWED_ORIGINS?: string;
  /** Overrides for tests (milliseconds). */
  HEARTBEAT_TIMEOUT_MS?: string;
  SWEEP_INTERVAL_MS?: string;
  /** How long a participant whose connection dropped keeps their place (ms, default 30000). */
  RESUME_GRACE_MS?: string;
  /** Connections one room takes, lobby included (default 300). */
  MAX_CONNECTIONS_PER_ROOM?: string;
  /** Connections one join token may open in a room (default 5). */
  MAX_CONNECTIONS_PER_TOKEN?: string;
  /** Connections one address may open in a room (default 100). */
  MAX_CONNECTIONS_PER_ADDRESS?: string;
  /** Frames a room sends per second before it merges participants' changes (default 4000). */
  ROOM_SENDS_PER_SECOND?: string;
  /** Cloudflare Calls (Realtime SFU) app. Without both, rooms work but carry no media. */
  CALLS_APP_ID?: string;
  /** A secret: `wrangler secret put CALLS_APP_SECRET`. Never leaves the Worker. */
  CALLS_APP_SECRET?: string;
  /** Defaults to Cloudflare's; `npm start` points it at the local SFU. */
  CALLS_API_URL?: string;
  /** Cloudflare TURN key; with its token, browsers get short-lived TURN credentials. */
  TURN_KEY_ID?: string;
  /** A secret: `wrangler secret put TURN_KEY_API_TOKEN`. */
  TURN_KEY_API_TOKEN?: string;
  /**
   * OpenAI's API key for the AI agent: a secret (`wrangler secret put
   * OPENAI_API_KEY`). Without it (or without Calls) rooms have no AI.
   */
  OPENAI_API_KEY?: string;
  /** Defaults to `https://api.openai.com/v1`; `npm start` points it at the local stand-in. */
  OPENAI_API_URL?: string;
  /** The realtime model (default `gpt-realtime`). */
  AI_MODEL?: string;
  /** The agent's voice (OpenAI's default when unset). */
  AI_VOICE?: string;
  /** The agent's instructions (OpenAI's default when unset). */
  AI_INSTRUCTIONS?: string;
  /** The agent's display name (default "AI"). */
  AI_NAME?: string;
  /** `host` (default): hosts invite and remove the AI, anyone talks; `anyone`: anyone does all. */
  AI_POLICY?: string;
  /** The longest one may hold push-to-talk (seconds, default 60). */
  AI_MAX_TALK_SECONDS?: string;
  /** The agent leaves after this long without anyone talking to it (minutes, default 10). */
  AI_IDLE_MINUTES?: string;
  /**
   * The longest one request to OpenAI, or opening the agent's control socket,
   * may take before it counts as failed (seconds, default 10).
   */
  AI_TIMEOUT_SECONDS?: string;
  /**
   * Where meeting events are posted (`meeting.started`, `meeting.ended`,
   * `participant.joined`, `participant.left`); unset sends none.
   */
  WEBHOOK_URL?: string;
  /**
   * Signs every delivery (Standard Webhooks: `webhook-id`,
   * `webhook-timestamp`, `webhook-signature`): `whsec_` and base64 of at
   * least 24 random bytes. A secret: `wrangler secret put WEBHOOK_SECRET`.
   */
  WEBHOOK_SECRET?: string;
  /**
   * Where ratings and problem reports are posted. Rooms keep them either way
   * (the meeting history); unset, they are only kept.
   */
  FEEDBACK_URL?: string;
  /** Attempts before a delivery is given up on and filed as a dead letter (default 20, about 3 h). */
  DELIVERY_MAX_ATTEMPTS?: string;
  /** A receiver slower than this (ms, default 10000) counts as down for that attempt. */
  DELIVERY_TIMEOUT_MS?: string;
  /**
   * Tests: how long a message handed to the queue may go unsettled before the
   * room hands it over again (ms, default 6 h: longer than all its attempts).
   */
  DELIVERY_RESEND_AFTER_MS?: string;
  /** Tests: a fixed wait between attempts (seconds) instead of the backoff. */
  DELIVERY_RETRY_SECONDS?: string;
}
