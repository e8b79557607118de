/**
 * A new WebSocket for the room: which protocol it speaks, who it is (from the
 * Worker's forwarded identity, never the browser), whether a host removed
 * them, whether the room has room for it, and whether it resumes a
 * participant whose connection dropped.
 */
import {
  PROTOCOL_VERSION,
  RESUME_PARAM,
  type ErrorCode,
  type ServerMessage,
} from '../../src/protocol/index.js';
import { CLIENT_ADDRESS_HEADER, readIdentity } from './forwarded.js';
import type { Connections } from './connections.js';
import { constantTimeEqual, digestOf } from './connections.js';
import type { RoomLimits } from './limits.js';
import type { Removal, Removals } from './removals.js';
import type { Roster } from './roster.js';

export const CLOSE_POLICY = 1008;

export type Handshake =
  | { ok: false; code: ErrorCode; message: string }
  | {
      ok: true;
      identity: { name: string; role: 'host' | 'guest'; picture?: string } | null;
      tokenDigest: string | null;
      tokenExpiresAt: number | null;
      address: string | null;
      /** The participant this connection resumes, if it does. */
      resumes: string | null;
    };

export async function checkHandshake(
  request: Request,
  context: {
    secured: boolean;
    connections: Connections;
    roster: Roster;
    removals: Removals;
    limits: RoomLimits;
  },
): Promise<Handshake> {
  const url = new URL(request.url);
  if (url.searchParams.get('v') !== String(PROTOCOL_VERSION)) {
    return {
      ok: false,
      code: 'protocol-version',
      message: 'Meetkit on this page is out of date: please reload',
    };
  }
  const forwarded = readIdentity(request.headers);
  // The Worker refuses these before the room is touched; this only guards the room itself.
  if (context.secured && !forwarded) {
    return { ok: false, code: 'unauthorized', message: 'This room needs a join token' };
  }
  const identity = forwarded
    ? {
        name: forwarded.name,
        role: forwarded.role,
        ...(forwarded.picture !== undefined && { picture: forwarded.picture }),
      }
    : null;
  const tokenDigest = forwarded?.tokenDigest ?? null;
  const address = request.headers.get(CLIENT_ADDRESS_HEADER);
  const now = Date.now();

  const tokenRemoval = tokenDigest ? context.removals.ofToken(tokenDigest, now) : null;
  if (tokenRemoval) return refusedAfterRemoval(tokenRemoval, 'token');
  const resume = await resumeClaim(url.searchParams.get(RESUME_PARAM));
  const resumes = resume && resumedParticipant(resume, context.roster);
  if (resume && !resumes) {
    // Their page was away when they were removed: it must not come back as someone new by itself.
    const removal = context.removals.ofParticipant(resume.id, resume.keyDigest, now);
    if (removal) return refusedAfterRemoval(removal, 'page');
  }
  // A resumed connection takes the place of the one it replaces: no cap applies.
  if (!resumes) {
    const { connections, limits } = context;
    if (connections.size >= limits.connectionsPerRoom) {
      return { ok: false, code: 'room-full', message: 'This meeting is full' };
    }
    if (
      tokenDigest &&
      connections.countWhere((s) => s.tokenDigest === tokenDigest) >= limits.connectionsPerToken
    ) {
      return {
        ok: false,
        code: 'too-many-connections',
        message: 'This join token is already in use on too many connections',
      };
    }
    if (address && connections.countWhere((s) => s.address === address) >= limits.connectionsPerAddress) {
      return {
        ok: false,
        code: 'too-many-connections',
        message: 'Too many connections to this meeting from your network',
      };
    }
  }
  return {
    ok: true,
    identity,
    tokenDigest,
    tokenExpiresAt: forwarded?.expiresAt ?? null,
    address,
    resumes: resumes || null,
  };
}

/** What a `resume=<id>.<key>` parameter claims: a participant, and the digest of the key. */
async function resumeClaim(value: string | null): Promise<{ id: string; keyDigest: string } | null> {
  const match = value ? /^([A-Za-z0-9_-]{1,64})\.([0-9a-f]{32})$/.exec(value) : null;
  return match ? { id: match[1]!, keyDigest: await digestOf(match[2]!) } : null;
}

/** The participant a resume claim proves to be (still in the roster), or null. */
function resumedParticipant(claim: { id: string; keyDigest: string }, roster: Roster): string | null {
  const member = roster.get(claim.id);
  if (!member) return null;
  return constantTimeEqual(claim.keyDigest, member.resumeDigest) ? claim.id : null;
}

/** What a removed visitor is told (`removed` is fatal: their page does not try again). */
export function removedMessage(byName: string, withToken: boolean): string {
  const removed = `${byName} removed you from this meeting`;
  return withToken ? `${removed}: this invitation cannot be used to join it again.` : `${removed}.`;
}

function refusedAfterRemoval(removal: Removal, by: 'token' | 'page'): Handshake {
  return { ok: false, code: 'removed', message: removedMessage(removal.byName, by === 'token') };
}

/** Accepts the socket only to say why it cannot stay, then closes it (1008). */
export function refuse(code: ErrorCode, message: string): Response {
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  server.send(JSON.stringify({ type: 'error', code, message } satisfies ServerMessage));
  server.close(CLOSE_POLICY, message.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}
