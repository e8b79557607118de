/**
 * Who is host, and what only a host may do. With join tokens the token
 * decides the role; open rooms always have a host: the first to join, and
 * when the host leaves for good, the participant present longest. A host
 * whose connection dropped stays host while the room waits for them.
 */
import type { Participant, Role } from '../../src/protocol/index.js';

export type HostAction = 'mute-participant' | 'end-meeting';

export function roleForJoin(tokenRole: Role | undefined, members: readonly Participant[]): Role {
  return tokenRole ?? (members.some((p) => p.role === 'host') ? 'guest' : 'host');
}

export function mayModerate(self: Participant, _action: HostAction): boolean {
  return self.role === 'host';
}

/**
 * After someone left for good: who becomes host, or null when nobody has to.
 * Connected participants are preferred over reconnecting ones.
 */
export function nextHost(
  departed: Participant,
  remaining: readonly Participant[],
  tokensDecideRoles: boolean,
): Participant | null {
  if (tokensDecideRoles || departed.role !== 'host' || remaining.length === 0) return null;
  if (remaining.some((p) => p.role === 'host')) return null;
  const candidates = remaining.some((p) => !p.reconnecting)
    ? remaining.filter((p) => !p.reconnecting)
    : remaining;
  return candidates.reduce((a, b) => (b.joinedAt < a.joinedAt ? b : a));
}

export const forbiddenMessage: Record<HostAction, string> = {
  'mute-participant': 'Only a host can mute others',
  'end-meeting': 'Only a host can end the meeting',
};
