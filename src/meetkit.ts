/**
 * The Meetkit bundle: importing it (or loading it with a script tag)
 * registers every element. Safe to load more than once.
 */
import { defineElement } from './define.js';
import { MeetRoom } from './elements/meet-room/meet-room.js';

defineElement('meet-room', MeetRoom);

export { MeetRoom };
export { createRoomClient } from './client/room-client.js';
export type {
  RoomClient,
  RoomClientOptions,
  RoomError,
  RoomEvent,
  ConnectionStatus,
} from './client/room-client.js';
export type { RoomState } from './client/room-state.js';
export { roomContext } from './elements/room-context.js';
export type { MeetEventDetails, MeetEvent } from './events/meet-events.js';
export type { Participant, Role } from './protocol/index.js';
