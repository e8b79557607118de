/**
 * Who may reach a room: with JOIN_SECRET set, only the holder of a valid join
 * token for it. Checked in the Worker, so a refused request never wakes (or
 * creates) the room's Durable Object.
 */
import { isLoopbackHost } from '../../src/protocol/index.js';
import type { Env } from '../env.js';
import type { ForwardedIdentity } from '../room/forwarded.js';
import { lookUpProfile, type Profile } from '../services/user-directory.js';
import {
  DEFAULT_MAX_TOKEN_TTL_SECONDS,
  maxTokenTtlSeconds,
  tokenDigest,
  verifyJoinToken,
} from './join-token.js';

export type RoomAccess = { ok: true; identity: ForwardedIdentity | null } | { ok: false; reason: string };

export interface AccessOptions {
  /** The request's URL: where this Worker is served from decides which pictures it passes on. */
  url: URL;
  /** Ask the user directory for the holder's name and picture: joining needs them, the summary does not. */
  withProfile?: boolean;
}

/** Open rooms let everyone in with no identity; secured ones need `token` to be valid for `room`. */
export async function roomAccess(
  env: Env,
  room: string,
  token: string | null,
  options: AccessOptions,
): Promise<RoomAccess> {
  if (!env.JOIN_SECRET) return { ok: true, identity: null };
  const check = await verifyJoinToken(token, env.JOIN_SECRET, room, maxTtlOf(env));
  if (!check.ok) return check;
  const { role, exp, sub } = check.claims;
  if (check.claims.picture && !servable(check.claims.picture, options.url)) {
    return {
      ok: false,
      reason: "The join token's picture is on a loopback host: this server takes https: only",
    };
  }
  let profile: Profile = { name: check.claims.name, picture: check.claims.picture };
  if (options.withProfile && sub !== undefined && env.USER_DIRECTORY_URL) {
    const found = await lookUpProfile(sub, { url: env.USER_DIRECTORY_URL, token: env.USER_DIRECTORY_TOKEN });
    if (found.ok) {
      const { name, picture } = found.profile;
      profile = { name, picture: picture && servable(picture, options.url) ? picture : undefined };
    }
    // Otherwise the lookup said why (once), and the token's own claims stand.
  }
  const identity: ForwardedIdentity = {
    name: profile.name,
    role,
    tokenDigest: await tokenDigest(token!),
    expiresAt: exp,
  };
  if (profile.picture) identity.picture = profile.picture;
  return { ok: true, identity };
}

/**
 * The protocol lets `http:` pictures on loopback hosts through (a local image
 * server in development); this Worker passes them on only while it is served
 * from a loopback host itself (`npm start`, the tests). In production its host
 * is the site's, which a visitor cannot make loopback, and a picture on
 * 127.0.0.1 would point every viewer's browser at their own machine.
 */
function servable(picture: string, workerUrl: URL): boolean {
  return !isLoopbackHost(new URL(picture).hostname) || isLoopbackHost(workerUrl.hostname);
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
