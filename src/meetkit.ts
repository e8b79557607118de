/**
 * The Meetkit bundle: importing it (or loading it with a script tag)
 * registers every element. Safe to load more than once.
 */
import { defineElement } from './define.js';
import { MeetControls } from './elements/meet-controls/meet-controls.js';
import { MeetDevicePicker } from './elements/meet-device-picker/meet-device-picker.js';
import { MeetParticipantGrid } from './elements/meet-participant-grid/meet-participant-grid.js';
import { MeetParticipantTile } from './elements/meet-participant-tile/meet-participant-tile.js';
import { MeetRoom } from './elements/meet-room/meet-room.js';

defineElement('meet-room', MeetRoom);
defineElement('meet-participant-grid', MeetParticipantGrid);
defineElement('meet-participant-tile', MeetParticipantTile);
defineElement('meet-controls', MeetControls);
defineElement('meet-device-picker', MeetDevicePicker);

export { MeetControls, MeetDevicePicker, MeetParticipantGrid, MeetParticipantTile, MeetRoom };
export { createRoomClient } from './client/room-client.js';
export type {
  RoomClient,
  RoomClientOptions,
  RoomError,
  RoomEvent,
  ConnectionStatus,
} from './client/room-client.js';
export type { RoomState } from './client/room-state.js';
export { createCallClient } from './client/call-client.js';
export type { CallClientOptions, MeetCallClient } from './client/call-client.js';
export type { CallClient, CallError, LocalMedia, RemoteMedia, MediaKind } from './client/call-types.js';
export { createMediaApi } from './client/media-api.js';
export { createDevices } from './client/devices.js';
export type { Devices, DeviceKind } from './client/devices.js';
export { roomContext } from './elements/room-context.js';
export { callContext } from './elements/call-context.js';
export { devicesContext } from './elements/devices-context.js';
export { themeContext } from './elements/theme-context.js';
export type { Theme } from './elements/theme-context.js';
export type {
  MeetEventDetails,
  MeetEvent,
  MeetEventName,
  MeetLeaveEvent,
  MeetDeviceChangeEvent,
  MeetParticipantUpdatedEvent,
  ParticipantChanges,
} from './events/meet-events.js';
export type { Participant, Role } from './protocol/index.js';
