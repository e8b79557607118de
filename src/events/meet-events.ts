import type { AiCaption, AiPresence } from '../client/ai-control.js';
import type { CallError } from '../client/call-types.js';
import type { DeviceKind } from '../client/devices.js';
import type { Quality } from '../client/quality.js';
import type { ParticipantChanges, RoomError } from '../client/room-client.js';
import type { LeaveReason, ModerationAction, Participant } from '../protocol/index.js';

export type { ParticipantChanges };

/**
 * Every event Meetkit elements fire, by name, with its `detail`. All bubble
 * and cross shadow roots (composed) because they are meant for the host page;
 * only `meet-leave` is cancelable.
 */
export interface MeetEventDetails {
  /** This visitor joined the meeting. */
  'meet-joined': { participant: Participant };
  /**
   * This visitor left the meeting, or a host ended it or removed them
   * (`reason`: `left`, `disconnected`, `timed-out`, `meeting-ended`,
   * `removed`); `by` is that host (null otherwise, or when not known).
   */
  'meet-left': { reason: LeaveReason; by: Participant | null };
  /** Someone else joined. */
  'meet-participant-joined': { participant: Participant };
  /** Someone else changed their microphone, camera, hand, role or connection; `changes` holds the new values. */
  'meet-participant-updated': { participant: Participant; changes: ParticipantChanges };
  /** Someone else left (closing the tab counts, at once); `by` is the host who removed them (`removed`). */
  'meet-participant-left': { participant: Participant; reason: LeaveReason; by: Participant | null };
  /**
   * A host acted on this visitor (`by`): `mute` and `camera-off` (done on
   * this page already), `lower-hand` or `make-host`.
   */
  'meet-moderated': { action: ModerationAction; by: Participant | null };
  /**
   * Something went wrong: with the room (`fatal` means its connection is
   * over), or with a device or the media connection (never fatal; `kind`
   * names the device).
   */
  'meet-error': RoomError | (CallError & { fatal: false });
  /** The user pressed Leave in `<meet-controls>`. Cancelable: `preventDefault()` keeps them in. */
  'meet-leave': Record<string, never>;
  /** The user chose a camera, microphone or speaker in `<meet-device-picker>`; `deviceId` null is the default. */
  'meet-device-change': { kind: DeviceKind; deviceId: string | null };
  /**
   * The "+N" tile of `<meet-participant-grid>` was pressed: `participants`
   * are the people off stage. `<meet-room>` then shows its people list.
   */
  'meet-show-participants': { participants: Participant[] };
  /**
   * Someone other than before is the latest to start speaking (you
   * included); it stays theirs through a pause, until someone else speaks.
   * Worked out in this page from the audio it receives.
   */
  'meet-active-speaker': { participant: Participant };
  /**
   * This visitor started (`talking: true`) or stopped talking with the
   * microphone off in the meeting: heard in this page only, never sent
   * (`meeting.mutedSpeech$`). `<meet-controls>` shows "You are muted".
   */
  'meet-muted-speech': { talking: boolean };
  /**
   * Someone's connection quality changed (you included), as this page
   * measures it: `good`, `fair`, `poor` or `lost` (nothing arrives). Not
   * fired for someone first measured `good`.
   */
  'meet-quality': { participant: Participant; quality: Quality };
  /**
   * The AI agent's state changed (`<meet-ai-toggle>`): `off` (not in the
   * meeting), `connecting`, `listening`, `thinking`, `speaking` or `error`.
   */
  'meet-ai-state': { state: AiPresence };
  /**
   * What the AI says (`<meet-ai-toggle>`): the answer so far while it speaks
   * (`final: false`), then the whole answer once (`final: true`).
   */
  'meet-ai-caption': AiCaption;
  /**
   * The user chose "Report a problem" under More in `<meet-controls>`.
   * `<meet-room>` opens its report dialog (`reportProblem()`).
   */
  'meet-report-problem': Record<string, never>;
  /**
   * This visitor sent feedback from `<meet-room>` and the server took it
   * (`id`): a rating of the meeting they left (`kind: 'rating'`, with
   * `rating` 1–5), or a problem report (`kind: 'problem'`). `meetingId` is
   * the meeting it is about (null for a report outside any meeting).
   */
  'meet-feedback':
    | { kind: 'rating'; id: string; meetingId: string; rating: number }
    | { kind: 'problem'; id: string; meetingId: string | null };
}

export type MeetEventName = keyof MeetEventDetails;
export type MeetEvent<K extends MeetEventName> = CustomEvent<MeetEventDetails[K]>;
export type MeetLeaveEvent = MeetEvent<'meet-leave'>;
export type MeetDeviceChangeEvent = MeetEvent<'meet-device-change'>;
export type MeetParticipantUpdatedEvent = MeetEvent<'meet-participant-updated'>;
export type MeetModeratedEvent = MeetEvent<'meet-moderated'>;
export type MeetAiStateEvent = MeetEvent<'meet-ai-state'>;
export type MeetAiCaptionEvent = MeetEvent<'meet-ai-caption'>;
export type MeetQualityEvent = MeetEvent<'meet-quality'>;
export type MeetFeedbackEvent = MeetEvent<'meet-feedback'>;

export interface MeetEventOptions {
  /** Lets a listener veto the action with `preventDefault()`; for intents only (`meet-leave`). */
  cancelable?: boolean;
}

/** A `meet-*` event with its typed detail, bubbling and composed. */
export function meetEvent<K extends MeetEventName>(
  name: K,
  detail: MeetEventDetails[K],
  { cancelable = false }: MeetEventOptions = {},
): MeetEvent<K> {
  return new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable });
}

/**
 * Fires a `meet-*` event from `target`. Returns false when a listener
 * cancelled it (only possible with `cancelable`).
 */
export function dispatchMeetEvent<K extends MeetEventName>(
  target: EventTarget,
  name: K,
  detail: MeetEventDetails[K],
  options?: MeetEventOptions,
): boolean {
  return target.dispatchEvent(meetEvent(name, detail, options));
}

type MeetEventMap = { [K in MeetEventName]: MeetEvent<K> };

declare global {
  // Every `meet-*` event, typed for addEventListener and `on…` handlers in one place.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- an interface merge is the only way in
  interface GlobalEventHandlersEventMap extends MeetEventMap {}
}
