import type { Room } from './room/room.js';

/** Bindings and variables the Worker and the Room read (wrangler.jsonc, `.dev.vars`, secrets). */
export interface Env {
  ASSETS: Fetcher;
  Room: DurableObjectNamespace<Room>;
  /** When set, joining needs an HS256 join token signed with it. A secret: `wrangler secret put`. */
  JOIN_SECRET?: string;
  /** Comma-separated origins allowed to open rooms and call the API; unset means any. */
  ALLOWED_ORIGINS?: string;
  /** Overrides for tests (milliseconds). */
  HEARTBEAT_TIMEOUT_MS?: string;
  SWEEP_INTERVAL_MS?: string;
  /**
   * `snapshot` sends the whole room to everyone on every change, as Orange does.
   * It exists only so `npm run bench` can measure our deltas against it.
   */
  BROADCAST_MODE?: 'delta' | 'snapshot';
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
}
