/**
 * The Meetkit bundle: importing it (or loading it with a script tag)
 * registers every element, and exports the headless core (`./core.ts`) too.
 * Safe to load more than once.
 */
import { defineElement } from './define.js';
import { MeetAiToggle } from './elements/meet-ai-toggle/meet-ai-toggle.js';
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
defineElement('meet-ai-toggle', MeetAiToggle);

export { MeetAiToggle, MeetControls, MeetDevicePicker, MeetParticipantGrid, MeetParticipantTile, MeetRoom };
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
  MeetAiStateEvent,
  MeetAiCaptionEvent,
  ParticipantChanges,
} from './events/meet-events.js';
