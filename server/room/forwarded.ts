/**
 * What the Worker tells a room about a request, in headers it sets itself
 * (any such header from the outside is replaced, never passed on): the room's
 * name, the identity from a join token the Worker has verified, and the
 * visitor's address. The room trusts these and nothing from the browser.
 */
import * as z from 'zod/mini';
import { displayName, personRole, pictureUrl } from '../../src/protocol/index.js';

export const ROOM_NAME_HEADER = 'X-Meet-Room';
export const IDENTITY_HEADER = 'X-Meet-Identity';
export const CLIENT_ADDRESS_HEADER = 'X-Meet-Client-Address';

/**
 * A verified join token's claims (name and picture perhaps from the user
 * directory instead), plus a digest of the token for per-token limits.
 */
export const forwardedIdentity = z.object({
  name: displayName,
  role: personRole,
  /** From the token's `picture` claim, or the user directory (`server/services/user-directory.ts`). */
  picture: z.optional(pictureUrl),
  /** SHA-256 of the token, hex: the same token reused on many connections shares it. */
  tokenDigest: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  /** The token's `exp` (seconds since the epoch): a removal is remembered until then. */
  expiresAt: z.number(),
});
export type ForwardedIdentity = z.infer<typeof forwardedIdentity>;

/** The identity header's value, or null when absent or not what the Worker writes. */
export function readIdentity(headers: Headers): ForwardedIdentity | null {
  const raw = headers.get(IDENTITY_HEADER);
  if (!raw) return null;
  try {
    const parsed = forwardedIdentity.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Copies `request` with only the Worker's own forwarded headers (old values dropped). */
export function forwardTo(
  request: Request,
  forwarded: { room: string; identity: ForwardedIdentity | null; clientAddress: string | null },
): Request {
  const headers = new Headers(request.headers);
  for (const name of [ROOM_NAME_HEADER, IDENTITY_HEADER, CLIENT_ADDRESS_HEADER]) headers.delete(name);
  headers.set(ROOM_NAME_HEADER, forwarded.room);
  if (forwarded.identity) headers.set(IDENTITY_HEADER, JSON.stringify(forwarded.identity));
  if (forwarded.clientAddress) headers.set(CLIENT_ADDRESS_HEADER, forwarded.clientAddress);
  return new Request(request, { headers });
}
