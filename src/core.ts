/**
 * Meetkit's headless core, with no elements and no Lit: for an app that
 * renders meetings itself (React, Vue, plain script). `createMeeting()` is
 * the one to start from; the clients it is made of are here too.
 */
export { createMeeting } from './client/meeting.js';
export type { Meeting, MeetingError, MeetingEvent, MeetingOptions, MeetingPhase } from './client/meeting.js';
export type { AiCaption, AiPresence, MeetingAi } from './client/ai-control.js';
export { createRoomClient } from './client/room-client.js';
export type {
  ConnectionStatus,
  ParticipantChanges,
  RoomClient,
  RoomClientOptions,
  RoomError,
  RoomEvent,
} from './client/room-client.js';
export type { RoomState } from './client/room-state.js';
export { createCallClient } from './client/call-client.js';
export type {
  CallClientOptions,
  MediaConnection,
  MeetCallClient,
  QualityReading,
  RoomPresence,
  VideoSize,
} from './client/call-client.js';
export type { CameraCaps, ReceiveSettings } from './client/media/layers.js';
export type { Quality, QualitySample } from './client/quality.js';
export type { CallClient, CallError, LocalMedia, MediaKind, RemoteMedia } from './client/call-types.js';
export { createMediaApi, MediaApiError } from './client/media-api.js';
export type { MediaApi } from './client/media-api.js';
export { createDevices, DeviceError } from './client/devices.js';
export type { DeviceKind, DeviceLists, Devices } from './client/devices.js';
export type { LeaveReason, ModerationAction, Participant, Role } from './protocol/index.js';
