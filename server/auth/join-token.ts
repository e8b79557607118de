import { jwtVerify, SignJWT } from 'jose';
import * as z from 'zod/mini';
import { displayName, personRole, PICTURE_URL_MAX_LENGTH, pictureUrl } from '../../src/protocol/index.js';

/** What a join token says about its holder; the room trusts nothing else. */
export const joinTokenClaims = z.object({
  room: z.string(),
  name: displayName,
  role: personRole,
  exp: z.number(),
  /** Optional (other backends may leave it out), but when present it bounds the lifetime too. */
  iat: z.optional(z.number()),
  /** The holder's id in the site's user directory (`USER_DIRECTORY_URL`), which may give a newer name and picture. */
  sub: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  /** Shown instead of their initial while their camera is off (see `pictureUrl`). */
  picture: z.optional(pictureUrl),
});
export type JoinTokenClaims = z.infer<typeof joinTokenClaims>;

/** The longest a join token may live unless `JOIN_TOKEN_MAX_TTL_SECONDS` says otherwise. */
export const DEFAULT_MAX_TOKEN_TTL_SECONDS = 24 * 3600;
/** Clocks of the backend that mints tokens and of the Worker may disagree by this much. */
const CLOCK_SKEW_SECONDS = 60;

const ALGORITHM = 'HS256';
const key = (secret: string) => new TextEncoder().encode(secret);

/**
 * `JOIN_TOKEN_MAX_TTL_SECONDS` as a number: unset or empty gives the default,
 * anything else must be a positive whole number of seconds.
 */
export function maxTokenTtlSeconds(
  value: string | undefined,
): { ok: true; seconds: number } | { ok: false; reason: string } {
  if (value === undefined || value.trim() === '') return { ok: true, seconds: DEFAULT_MAX_TOKEN_TTL_SECONDS };
  const seconds = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(seconds) || seconds <= 0) {
    return { ok: false, reason: `JOIN_TOKEN_MAX_TTL_SECONDS must be whole seconds above 0, not "${value}"` };
  }
  return { ok: true, seconds };
}

/** `86400` → `24 h`, `5400` → `90 min`: for messages people read. */
export function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export async function signJoinToken(
  claims: Pick<JoinTokenClaims, 'room' | 'name' | 'role' | 'sub' | 'picture'>,
  secret: string,
  ttlSeconds: number,
): Promise<string> {
  const { room, name, role, sub, picture } = claims;
  return new SignJWT({
    room,
    name,
    role,
    ...(sub !== undefined && { sub }),
    ...(picture !== undefined && { picture }),
  })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key(secret));
}

export type TokenCheck = { ok: true; claims: JoinTokenClaims } | { ok: false; reason: string };

/**
 * Checks signature, expiry, lifetime (at most `maxTtlSeconds` from issue to
 * expiry, and from now to expiry) and room. Never throws; the reason is safe
 * to show.
 */
export async function verifyJoinToken(
  token: string | null,
  secret: string,
  room: string,
  maxTtlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS,
): Promise<TokenCheck> {
  if (!token) return { ok: false, reason: 'This room needs a join token' };
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, key(secret), { algorithms: [ALGORITHM] }));
  } catch (error) {
    const expired = error instanceof Error && 'code' in error && error.code === 'ERR_JWT_EXPIRED';
    return { ok: false, reason: expired ? 'The join token has expired' : 'The join token is not valid' };
  }
  const claims = joinTokenClaims.safeParse(payload);
  if (!claims.success) return { ok: false, reason: badClaimReason(claims.error.issues[0]?.path[0]) };
  const { exp, iat } = claims.data;
  const now = Math.floor(Date.now() / 1000);
  if (exp - now > maxTtlSeconds + CLOCK_SKEW_SECONDS || (iat !== undefined && exp - iat > maxTtlSeconds)) {
    return {
      ok: false,
      reason: `The join token lives too long: this server takes tokens valid for at most ${formatDuration(maxTtlSeconds)}`,
    };
  }
  if (claims.data.room !== room) return { ok: false, reason: 'The join token is for another room' };
  return { ok: true, claims: claims.data };
}

/** What to tell the holder of a signed token whose claims do not parse: the optional ones are named. */
function badClaimReason(claim: PropertyKey | undefined): string {
  if (claim === 'picture')
    return `The join token's picture is not an https: URL (at most ${PICTURE_URL_MAX_LENGTH} characters, no credentials)`;
  if (claim === 'sub') return "The join token's sub must be 1-256 characters";
  return 'The join token is missing room, name or role';
}

/** SHA-256 of the token, hex: what the room counts connections per token by. */
export async function tokenDigest(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}
