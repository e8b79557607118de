import type { LeaveReason, Participant } from '../protocol/index.js';
import type { CallError } from '../client/call-types.js';
import type { RoomError } from '../client/room-client.js';

/**
 * Events Meetkit elements fire. All bubble and cross shadow roots (composed)
 * because they are meant for the host page.
 */
export interface MeetEventDetails {
  /** This participant joined the meeting. */
  'meet-joined': { participant: Participant };
  /** This participant left the meeting (or was removed when it ended). */
  'meet-left': { reason: LeaveReason };
  /** Someone else joined. */
  'meet-participant-joined': { participant: Participant };
  /** Someone else left. */
  'meet-participant-left': { participant: Participant; reason: LeaveReason };
  /**
   * Something went wrong: with the room (`fatal` means its connection is
   * over), or with a device or the media connection (never fatal; `kind`
   * names the device).
   */
  'meet-error': RoomError | (CallError & { fatal: false });
}

export type MeetEventName = keyof MeetEventDetails;
export type MeetEvent<K extends MeetEventName> = CustomEvent<MeetEventDetails[K]>;

export function meetEvent<K extends MeetEventName>(name: K, detail: MeetEventDetails[K]): MeetEvent<K> {
  return new CustomEvent(name, { detail, bubbles: true, composed: true });
}

declare global {
  interface GlobalEventHandlersEventMap {
    'meet-joined': MeetEvent<'meet-joined'>;
    'meet-left': MeetEvent<'meet-left'>;
    'meet-participant-joined': MeetEvent<'meet-participant-joined'>;
    'meet-participant-left': MeetEvent<'meet-participant-left'>;
    'meet-error': MeetEvent<'meet-error'>;
  }
}
