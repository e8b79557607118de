/**
 * Who may reach a room: with JOIN_SECRET set, only the holder of a valid join
 * token for it. Checked in the Worker, so a refused request never wakes (or
 * creates) the room's Durable Object.
 */
import type { Env } from '../env.js';
import type { ForwardedIdentity } from '../room/forwarded.js';
import {
  DEFAULT_MAX_TOKEN_TTL_SECONDS,
  maxTokenTtlSeconds,
  tokenDigest,
  verifyJoinToken,
} from './join-token.js';

export type RoomAccess = { ok: true; identity: ForwardedIdentity | null } | { ok: false; reason: string };

/** Open rooms let everyone in with no identity; secured ones need `token` to be valid for `room`. */
export async function roomAccess(env: Env, room: string, token: string | null): Promise<RoomAccess> {
  if (!env.JOIN_SECRET) return { ok: true, identity: null };
  const check = await verifyJoinToken(token, env.JOIN_SECRET, room, maxTtlOf(env));
  if (!check.ok) return check;
  const { name, role, exp } = check.claims;
  return { ok: true, identity: { name, role, tokenDigest: await tokenDigest(token!), expiresAt: exp } };
}

/** The token of an HTTP API request: `Authorization: Bearer <token>`, else `?token=`. */
export function bearerToken(request: Request): string | null {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get('Authorization') ?? '');
  return bearer?.[1] ?? new URL(request.url).searchParams.get('token');
}

function maxTtlOf(env: Env): number {
  const max = maxTokenTtlSeconds(env.JOIN_TOKEN_MAX_TTL_SECONDS);
  if (max.ok) return max.seconds;
  // A typo must not lift the cap: keep the default and say why.
  console.error(`${max.reason}; using ${DEFAULT_MAX_TOKEN_TTL_SECONDS}`);
  return DEFAULT_MAX_TOKEN_TTL_SECONDS;
}
