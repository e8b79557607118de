import { jwtVerify, SignJWT } from 'jose';
import * as z from 'zod/mini';
import { displayName, role } from '../../src/protocol/index.js';

/** What a join token says about its holder; the room trusts nothing else. */
export const joinTokenClaims = z.object({
  room: z.string(),
  name: displayName,
  role,
  exp: z.number(),
});
export type JoinTokenClaims = z.infer<typeof joinTokenClaims>;

const ALGORITHM = 'HS256';
const key = (secret: string) => new TextEncoder().encode(secret);

export async function signJoinToken(
  claims: Omit<JoinTokenClaims, 'exp'>,
  secret: string,
  ttlSeconds: number,
): Promise<string> {
  return new SignJWT({ room: claims.room, name: claims.name, role: claims.role })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key(secret));
}

export type TokenCheck = { ok: true; claims: JoinTokenClaims } | { ok: false; reason: string };

/** Checks signature, expiry and room. Never throws; the reason is safe to show. */
export async function verifyJoinToken(
  token: string | null,
  secret: string,
  room: string,
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
  if (!claims.success) return { ok: false, reason: 'The join token is missing room, name or role' };
  if (claims.data.room !== room) return { ok: false, reason: 'The join token is for another room' };
  return { ok: true, claims: claims.data };
}
