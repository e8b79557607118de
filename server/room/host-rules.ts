/**
 * Who is host, and what only a host may do. With join tokens the token
 * decides the role; open rooms always have a host: the first to join, and
 * when the host leaves for good, the participant present longest. A host
 * whose connection dropped stays host while the room waits for them. A host
 * may make someone else host too (in any room); both stay hosts.
 */
import type { ModerationAction, Participant, Role } from '../../src/protocol/index.js';

/** Host actions on someone else, by the message that asks for them. */
export const TARGETED_ACTIONS = {
  'mute-participant': 'mute',
  'turn-camera-off': 'camera-off',
  'lower-hand': 'lower-hand',
  'make-host': 'make-host',
  'remove-participant': 'remove',
} as const satisfies Record<string, ModerationAction | 'remove'>;
export type TargetedAction = keyof typeof TARGETED_ACTIONS;

export type HostAction = TargetedAction | 'end-meeting';

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
  'turn-camera-off': "Only a host can turn off others' cameras",
  'lower-hand': "Only a host can lower others' hands",
  'make-host': 'Only a host can make someone host',
  'remove-participant': 'Only a host can remove someone from the meeting',
  'end-meeting': 'Only a host can end the meeting',
};

/**
 * Why a host's action cannot apply to `target`, or null when it can. The AI
 * agent is sent away with `ai-remove`, never moderated like a person; one's
 * own microphone, camera and hand have their own controls. Turning a
 * microphone or camera off needs the target's page, which is away while they
 * reconnect (coming back, it would announce what it still sends).
 */
export function targetRefusal(action: TargetedAction, host: Participant, target: Participant): string | null {
  if (target.role === 'agent') return 'The AI is not moderated like a person: use Remove AI to send it away';
  if (target.id === host.id) return 'Host actions are for others: use your own controls';
  if (target.reconnecting && (action === 'mute-participant' || action === 'turn-camera-off'))
    return `${target.name} is reconnecting: try again when they are back`;
  return null;
}
