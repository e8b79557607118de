/**
 * The Meetkit bundle: importing it (or loading it with a script tag)
 * registers every element, and exports the headless core (`./core.ts`) too.
 * Safe to load more than once.
 *
 * `<meet-room>` and its lobby are here. What the lobby does without
 * (`<meet-participant-grid>`, `<meet-participant-tile>`, `<meet-controls>`,
 * `<meet-ai-toggle>` and `<meet-device-picker>`) are its lazy dependencies: registering
 * `<meet-room>` starts loading them, and each is registered when it arrives.
 * Their classes are exported as types only: a value would load them with
 * this module. The classes themselves come from `meetkit/elements/…` or
 * `customElements.whenDefined(tag)`.
 */
import { defineElement } from './define.js';
import { MeetRoom } from './elements/meet-room/meet-room.js';

defineElement('meet-room', MeetRoom);

export { MeetRoom };
export type { MeetAiToggle } from './elements/meet-ai-toggle/meet-ai-toggle.js';
export type { MeetControls } from './elements/meet-controls/meet-controls.js';
export type { MeetDevicePicker } from './elements/meet-device-picker/meet-device-picker.js';
export type { MeetParticipantGrid } from './elements/meet-participant-grid/meet-participant-grid.js';
export type { MeetParticipantTile } from './elements/meet-participant-tile/meet-participant-tile.js';
export * from './core.js';
export { meetingContext } from './elements/meeting-context.js';
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
  MeetModeratedEvent,
  MeetAiStateEvent,
  MeetAiCaptionEvent,
  MeetFeedbackEvent,
  ParticipantChanges,
} from './events/meet-events.js';
