import { provide } from '@lit/context';
import { adoptStyles, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { MeetingAi } from '../../client/ai-control.js';
import type { MediaConnection } from '../../client/call-client.js';
import type { LocalMedia } from '../../client/call-types.js';
import type { Devices } from '../../client/devices.js';
import {
  createMeeting,
  type Meeting,
  type MeetingError,
  type MeetingEvent,
  type MeetingPhase,
} from '../../client/meeting.js';
import type { Quality } from '../../client/quality.js';
import type { ConnectionStatus } from '../../client/room-client.js';
import { selfOf, type RoomState } from '../../client/room-state.js';
import { dispatchMeetEvent } from '../../events/meet-events.js';
import { NAME_MAX_LENGTH, ROOM_NAME_PATTERN, type Participant } from '../../protocol/index.js';
import { scriptOrigin } from '../../script-origin.js';
import { controlStyles, themeStyles } from '../../styles/tokens.js';
import { avatarStyles } from '../avatar.js';
import { devicesContext } from '../devices-context.js';
import { MeetElement } from '../meet-element.js';
import { meetingContext } from '../meeting-context.js';
import { ObserveController } from '../observe-controller.js';
import { lobbyPreview, lobbyPreviewStyles } from './lobby-preview.js';
import type { PoorConnectionNotice } from './meeting-notices.js';
import type { MeetingView } from './meeting-view.js';
import type { RoomFeedback } from './room-feedback.js';
import { meetRoomStyles } from './meet-room.styles.js';

/** Where the lobby remembers the name a visitor typed last time. */
export const REMEMBERED_NAME_KEY = 'meet-display-name';

/** How long an empty `room` may wait, after the page has loaded, for a script or framework to set it. */
const ROOM_GRACE_MS = 1_000;
/** How long "Ann muted you" stays. */
const NOTICE_MS = 8_000;
const OFFLINE_NOTICE = 'You are offline. The meeting will reconnect when your network is back.';

/** What the notice says: what a host did, how your connection is, or that you are offline. */
type NoticeKind = 'moderation' | 'poor-connection' | 'offline';

/** The meeting's default layout (`meeting-view.ts`) once it has arrived: the lobby does without it. */
let meetingLayout: typeof import('./meeting-view.js') | undefined;
let meetingLayoutLoading: Promise<void> | undefined;

/** Starts loading the meeting layout with the meeting's elements (once), and settles when it is here or failed. */
function loadMeetingLayout(): Promise<void> {
  return (meetingLayoutLoading ??= import('./meeting-view.js').then(
    (module) => void (meetingLayout = module),
    (error: unknown) => {
      meetingLayoutLoading = undefined; // the next room tries again
      console.error('Meetkit: could not load the meeting layout.', error);
    },
  ));
}

/**
 * A whole meeting room: a lobby with a camera preview, microphone and camera
 * toggles, device choice and a name, then the video grid, the people list
 * and the controls. It renders a meeting from `createMeeting()` (the
 * headless core) and provides it to the elements inside it through
 * `@lit/context`, so a host page can slot its own arrangement of
 * `<meet-participant-grid>`, `<meet-controls>` and `<meet-device-picker>`.
 *
 * The lobby always shows first (camera and microphone start with a click);
 * with a `name` attribute it does not ask for one, and `join()` joins from
 * script. When the connection drops, the visitor stays in the meeting as
 * "reconnecting" and comes back as the same participant.
 *
 * Hosts moderate from the people list: Mute, and under More, turn off
 * someone's camera, lower their hand, make them host or remove them (which
 * asks first). The visitor a host acted on is told who did it; a removed
 * visitor is told why and stays out.
 *
 * After leaving a meeting (or when it ends), the room asks once how the
 * call was: a 1–5 rating and an optional comment, skippable, never again
 * for that meeting (remembered in `localStorage`; not asked of a visitor a
 * host removed). `no-feedback` turns it off. "Report a problem" under More
 * in the controls, or `reportProblem()`, sends the visitor's words with
 * diagnostics shown to them before sending. Ctrl+Alt+G (⌥⌘G on a Mac)
 * opens a debug overlay: meeting and Calls session ids and each track's
 * numbers, with a Copy button.
 *
 * @tagname meet-room
 *
 * @slot - Replaces the default meeting layout (grid, people, controls) while joined.
 * @event meet-joined - This visitor joined. `detail.participant`.
 * @event meet-left - This visitor left, or a host ended the meeting or removed them. `detail.reason`, `detail.by`.
 * @event meet-participant-joined - Someone else joined. `detail.participant`.
 * @event meet-participant-updated - Someone else changed their microphone, camera, hand, role or connection. `detail.participant`, `detail.changes`.
 * @event meet-participant-left - Someone else left (or a host removed them). `detail.participant`, `detail.reason`, `detail.by`.
 * @event meet-moderated - A host muted this visitor, turned their camera off, lowered their hand or made them host. `detail.action`, `detail.by`.
 * @event meet-active-speaker - Someone else than before is the latest to speak (you included). `detail.participant`.
 * @event meet-muted-speech - This visitor started (`detail.talking` true) or stopped talking with the microphone off; heard in the page only. `<meet-controls>` then says "You are muted".
 * @event meet-quality - Someone's connection quality changed (you included): `detail.participant`, `detail.quality` (`good`, `fair`, `poor`, `lost`).
 * @event meet-ai-state - The AI agent's state changed (from the default `<meet-ai-toggle>`). `detail.state`.
 * @event meet-ai-caption - What the AI says (from the default `<meet-ai-toggle>`). `detail.text`, `detail.final`.
 * @event meet-feedback - This visitor sent a rating or a problem report and the server took it. `detail.kind` (`rating`, `problem`), `detail.id`, `detail.meetingId`, `detail.rating`.
 * @event meet-error - A problem to show or log: the room, a device or the media connection.
 *   `detail.code`, `detail.message`, `detail.fatal`, and `detail.kind` for a device.
 *
 * @csspart status - The connection banner (connecting, reconnecting), and why the meeting is over (ended, removed).
 * @csspart notice - What a host did to you, that your connection is poor, or that you are offline.
 * @csspart error - The message shown when the room cannot be used.
 * @csspart lobby - The lobby: preview, toggles, devices, name field and Join button.
 * @csspart preview - The lobby's self preview: the camera, or your initial while it is off (`camera-off`).
 * @csspart media-error - A device or media problem, with what to do.
 * @csspart meeting - The joined view (holds the slot).
 * @csspart grid - The default `<meet-participant-grid>`.
 * @csspart people - The side list of participants with host actions.
 * @csspart participants - The list of participants.
 * @csspart participant - One participant in the list.
 * @csspart participant-picture - Their picture in the list, over their initial (which shows if it fails to load).
 * @csspart host-actions - A host's actions on one participant (the More menu, or the question before Remove).
 * @csspart self - Your own row in the list (with `participant`).
 * @csspart controls - The default `<meet-controls>`.
 * @csspart ai - The default `<meet-ai-toggle>` (when the server has an AI).
 * @csspart host-controls - Host actions (End meeting for all).
 * @csspart debug - The debug overlay (Ctrl+Alt+G).
 * @csspart debug-ids - Its meeting and Calls session ids and connection states.
 * @csspart debug-tracks - Its table of tracks: mid, resolution, bitrate, packet loss, round trip.
 * @csspart debug-copy - Its Copy button (the diagnostics as JSON).
 * @csspart debug-copied - What Copy did ("Copied").
 * @csspart debug-close - Its Close button.
 * @csspart feedback-rating - "How was the call?" after a meeting; the thanks once sent.
 * @csspart feedback-stars - The 1–5 rating's radio group.
 * @csspart feedback-error - Why a rating or report was not sent.
 * @csspart feedback-report - The problem report dialog.
 * @csspart feedback-diagnostics - What the report sends with the visitor's words.
 * @csspart feedback-tracks - The report's table of tracks.
 *
 * @cssproperty --meet-room-radius - Corner radius of the room.
 * @cssproperty --meet-room-min-height - Minimum height of the room.
 * @cssproperty --meet-room-grid-min-height - Minimum height of its video grid.
 * @cssproperty --meet-tile-radius - Corner radius of the lobby's preview, as of the tiles.
 */
export class MeetRoom extends MeetElement {
  static override styles = [themeStyles, controlStyles, avatarStyles, meetRoomStyles, lobbyPreviewStyles];
  /**
   * What the lobby does without: the meeting's elements, and the device
   * picker (shown after a click). Split off so the lobby comes sooner.
   */
  static override lazyDependencies = {
    'meet-participant-tile': () =>
      import('../meet-participant-tile/meet-participant-tile.js').then((m) => m.MeetParticipantTile),
    'meet-participant-grid': () =>
      import('../meet-participant-grid/meet-participant-grid.js').then((m) => m.MeetParticipantGrid),
    'meet-controls': () => import('../meet-controls/meet-controls.js').then((m) => m.MeetControls),
    'meet-device-picker': () =>
      import('../meet-device-picker/meet-device-picker.js').then((m) => m.MeetDevicePicker),
    'meet-ai-toggle': () => import('../meet-ai-toggle/meet-ai-toggle.js').then((m) => m.MeetAiToggle),
  };

  /** Room name: letters, digits, `-` and `_`, up to 64. Required. */
  @property({ reflect: true }) room = '';
  /** Meetkit server origin; defaults to where the script was loaded from. */
  @property() server = '';
  /** Display name; when set the lobby does not ask for one. */
  @property() name = '';
  /** Join token, when the server requires one. */
  @property() token = '';
  /** The most tiles its grid shows at once (`max-tiles` of `<meet-participant-grid>`); 0: as many as fit. */
  @property({ type: Number, attribute: 'max-tiles' }) maxTiles = 0;
  /** The most the camera sends, in kbit/s (the top layer; lower ones in proportion). Read at connect. */
  @property({ type: Number, attribute: 'camera-max-bitrate' }) cameraMaxBitrate = 0;
  /** The most frames per second the camera sends. Read at connect. */
  @property({ type: Number, attribute: 'camera-max-framerate' }) cameraMaxFramerate = 0;
  /** Never ask "How was the call?" after a meeting. */
  @property({ type: Boolean, attribute: 'no-feedback' }) noFeedback = false;
  /**
   * Where the visitor is: `lobby`, `joining`, `joined`, `reconnecting` or
   * `left`. Reflected for styling (`meet-room[phase='reconnecting']`); set by
   * the element, not by the page.
   */
  @property({ reflect: true }) phase: MeetingPhase = 'lobby';

  /** The meeting (the headless core), for the elements inside this one and for scripts. */
  @provide({ context: meetingContext })
  @state()
  meeting: Meeting | undefined;

  /** Cameras, microphones and speakers, for `<meet-device-picker>` inside this one. */
  @provide({ context: devicesContext })
  @state()
  protected devices: Devices | undefined;

  @state() private mediaError: MeetingError | null = null;
  @state() private fatalError: MeetingError | null = null;
  @state() private endedBy: Participant | null | undefined;
  /** Why this visitor is out: a host removed them. */
  @state() private removal: string | null = null;
  @state() private notice: string | null = null;
  /** The participant whose host actions are open, or who is about to be removed. */
  @state() private actionsFor: { id: string; confirmingRemoval: boolean } | null = null;
  @state() private choosingDevices = false;
  @state() private typedName = '';
  #roomGrace: ReturnType<typeof setTimeout> | undefined;
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;
  #noticeKind: NoticeKind | null = null;
  /** Tells this visitor their connection stays poor, once the meeting layout is here. */
  #poorConnection: PoorConnectionNotice | undefined;
  /** The rating prompt, the problem report and the debug overlay, once the meeting layout is here. */
  #feedback: RoomFeedback | undefined;

  readonly #state = new ObserveController<RoomState>(this);
  readonly #connection = new ObserveController<ConnectionStatus>(this);
  readonly #local = new ObserveController<LocalMedia>(this);
  readonly #ai = new ObserveController<MeetingAi>(this);
  readonly #speaking = new ObserveController<readonly string[]>(this, (ids) => this.#onSpeaking(ids));
  readonly #pinned = new ObserveController<string | null>(this);
  readonly #mutedSpeech = new ObserveController<boolean>(this, (talking) => this.#onMutedSpeech(talking));
  /** What `meet-muted-speech` said last. */
  #talkingMuted = false;
  readonly #quality = new ObserveController<ReadonlyMap<string, Quality>>(this, (levels) =>
    this.#onQuality(levels),
  );
  /** Everyone's level as last told, for `meet-quality` (fired on changes only). */
  #qualityTold: ReadonlyMap<string, Quality> = new Map();
  readonly #mediaConnection = new ObserveController<MediaConnection>(this);
  /** Who spoke last, for `meet-active-speaker`: stays through a pause, until someone else speaks. */
  #activeSpeaker: string | null = null;
  readonly #phase = new ObserveController<MeetingPhase>(this, (phase) => (this.phase = phase));
  readonly #errors = new ObserveController<MeetingError>(this, (error) => this.#onError(error));
  readonly #events = new ObserveController<MeetingEvent>(this, (event) => this.#onEvent(event));

  override connectedCallback(): void {
    super.connectedCallback();
    if (meetingLayout) this.#adoptMeetingLayout();
    else
      void loadMeetingLayout().then(() => {
        this.#adoptMeetingLayout();
        this.requestUpdate();
      });
    if (!this.typedName) this.typedName = readRememberedName();
    window.addEventListener('pagehide', this.#onPageHide);
    window.addEventListener('offline', this.#onNetwork);
    window.addEventListener('online', this.#onNetwork);
    this.#connect();
    if (navigator.onLine === false) this.#showNotice(OFFLINE_NOTICE, 'offline', 0);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('pagehide', this.#onPageHide);
    window.removeEventListener('offline', this.#onNetwork);
    window.removeEventListener('online', this.#onNetwork);
    this.#disconnect();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const target = changed.has('room') || changed.has('server') || changed.has('token');
    if (target && this.isConnected && this.hasUpdated) this.#connect();
  }

  /** This visitor in the meeting, or null in the lobby. */
  get participant(): Participant | null {
    const state = this.#state.value;
    return state ? selfOf(state) : null;
  }

  /** Joins the meeting, with `name` or the name given in the lobby. Returns false if it could not start. */
  join(name: string = this.name || this.typedName): boolean {
    const started = this.meeting?.join(name) ?? false;
    if (started && !this.name) rememberName(name);
    return started;
  }

  /** Leaves the meeting and returns to the lobby. */
  leave(): void {
    if (this.participant) this.meeting?.leave();
  }

  /** Raises (or with `false`, lowers) this participant's hand. */
  raiseHand(raised = true): void {
    this.meeting?.raiseHand(raised);
  }

  /** Turns the microphone on or off (in the lobby too). */
  setMicrophone(on: boolean): Promise<void> {
    return this.meeting?.setMicrophone(on) ?? Promise.resolve();
  }

  /** Turns the camera on or off (in the lobby too). */
  setCamera(on: boolean): Promise<void> {
    return this.meeting?.setCamera(on) ?? Promise.resolve();
  }

  /** Starts or stops sharing a screen (the browser asks which). */
  setScreenShare(on: boolean): Promise<void> {
    return this.meeting?.setScreenShare(on) ?? Promise.resolve();
  }

  /** Host only (the server checks): turns someone else's microphone off. */
  muteParticipant(id: string): void {
    this.meeting?.muteParticipant(id);
  }

  /** Host only: turns someone else's camera off. */
  turnCameraOff(id: string): void {
    this.meeting?.turnCameraOff(id);
  }

  /** Host only: lowers someone else's raised hand. */
  lowerHand(id: string): void {
    this.meeting?.lowerHand(id);
  }

  /** Host only: removes someone from the meeting (no question asked; the people list asks). */
  removeParticipant(id: string): void {
    this.meeting?.removeParticipant(id);
  }

  /** Host only: makes someone else a host too. */
  makeHost(id: string): void {
    this.meeting?.makeHost(id);
  }

  /** Brings the AI into the meeting, if the server has one and lets this visitor (`AI_POLICY`). */
  inviteAi(): void {
    this.meeting?.inviteAi();
  }

  /** Sends the AI away (same rule as inviting). */
  removeAi(): void {
    this.meeting?.removeAi();
  }

  /**
   * Push-to-talk: `true` holds it (the AI hears your microphone, turned on
   * if needed), `false` lets go and the AI answers. One holder at a time.
   */
  talkToAi(on: boolean): Promise<void> {
    return this.meeting?.talkToAi(on) ?? Promise.resolve();
  }

  /** Pins someone's camera for this visitor: first and large in the grid. */
  pin(participantId: string): void {
    this.meeting?.pin(participantId);
  }

  /** Unpins the pinned camera. */
  unpin(): void {
    this.meeting?.unpin();
  }

  /** Data saver: receive only the lowest video quality and send no full one. Remembered. */
  setDataSaver(on: boolean): void {
    this.meeting?.setDataSaver(on);
  }

  /** Audio-only: receive no video at all (tiles show names). Remembered. */
  setAudioOnly(on: boolean): void {
    this.meeting?.setAudioOnly(on);
  }

  /**
   * Opens the problem report with `text` filled in, showing what will be
   * sent with it. Resolves with the report's id once sent, null when cancelled.
   */
  reportProblem(text?: string): Promise<string | null> {
    // The feedback controller comes with the meeting layout, loaded as the room connects.
    return loadMeetingLayout().then(() => this.#feedback?.reportProblem(text) ?? null);
  }

  #connect(): void {
    this.#disconnect();
    this.fatalError = null;
    this.endedBy = undefined;
    this.removal = null;
    this.phase = 'lobby';
    if (!ROOM_NAME_PATTERN.test(this.room)) return this.#waitForRoom();
    this.meeting = createMeeting({
      server: this.server || scriptOrigin,
      room: this.room,
      token: this.token || undefined,
      // Attributes that are empty, mistyped or not above zero are no cap (cameraEncodings).
      camera: { maxBitrate: this.cameraMaxBitrate * 1000, maxFramerate: this.cameraMaxFramerate },
    });
    this.devices = this.meeting.devices;
    this.#state.observe(this.meeting.state$);
    this.#connection.observe(this.meeting.connection$);
    this.#local.observe(this.meeting.local$);
    this.#ai.observe(this.meeting.ai$);
    this.#speaking.observe(this.meeting.speaking$);
    this.#pinned.observe(this.meeting.pinned$);
    this.#mutedSpeech.observe(this.meeting.mutedSpeech$);
    this.#quality.observe(this.meeting.quality$);
    this.#mediaConnection.observe(this.meeting.mediaConnection$);
    this.#phase.observe(this.meeting.phase$);
    this.#errors.observe(this.meeting.errors$);
    this.#events.observe(this.meeting.events$);
  }

  /**
   * No valid room yet. A room that is wrong is said at once; an empty one
   * may still come (a script or a framework sets it a moment after the
   * element appears), so it is reported only if it is still empty a while
   * after the page has loaded.
   */
  #waitForRoom(): void {
    const report = (message: string) => this.#onError({ code: 'invalid-room', message, fatal: true });
    if (this.room) {
      const message = `"${this.room}" is not a valid room name: use 1-64 letters, digits, "-" or "_".`;
      // After the first render, so a page that listens once the element is on the page still hears it.
      void this.updateComplete.then(() => report(message));
      return;
    }
    const later = () => {
      this.#roomGrace = setTimeout(() => {
        if (!this.room && this.isConnected)
          report('This meeting has no room: set the room attribute, e.g. <meet-room room="standup">.');
      }, ROOM_GRACE_MS);
    };
    if (document.readyState === 'complete') later();
    else window.addEventListener('load', later, { once: true });
  }

  #disconnect(): void {
    clearTimeout(this.#roomGrace);
    this.#showNotice(null);
    for (const controller of [
      this.#state,
      this.#connection,
      this.#local,
      this.#ai,
      this.#speaking,
      this.#pinned,
      this.#mutedSpeech,
      this.#quality,
      this.#mediaConnection,
      this.#phase,
      this.#errors,
      this.#events,
    ])
      controller.observe(undefined);
    this.meeting?.close();
    this.meeting = undefined;
    this.devices = undefined;
    this.mediaError = null;
    this.#activeSpeaker = null;
    this.#talkingMuted = false;
    this.#qualityTold = new Map();
    this.#poorConnection?.reset();
  }

  /** The page goes away (tab closed, navigation): leave now, so the others see it at once. */
  readonly #onPageHide = () => this.#disconnect();

  /** The browser lost or found its network: say so while it lasts (the meeting reconnects by itself). */
  readonly #onNetwork = (event: Event) => {
    if (event.type === 'offline') this.#showNotice(OFFLINE_NOTICE, 'offline', 0);
    else this.#clearNotice('offline');
  };

  /**
   * Fires `meet-quality` for each level that changed (someone first
   * measured fair, poor or lost too), and tells this visitor when their own
   * connection stays poor.
   */
  #onQuality(levels: ReadonlyMap<string, Quality>): void {
    const told = this.#qualityTold;
    this.#qualityTold = levels;
    const people = this.#state.value?.participants ?? [];
    for (const [id, quality] of levels) {
      if (quality === (told.get(id) ?? 'good')) continue;
      const participant = people.find((p) => p.id === id);
      if (participant) dispatchMeetEvent(this, 'meet-quality', { participant, quality });
    }
    const selfId = this.#state.value?.selfId;
    // Lost is the media connection dropping: the status says "Reconnecting…" instead.
    this.#poorConnection?.update(!!selfId && levels.get(selfId) === 'poor');
  }

  #onError(error: MeetingError): void {
    // The server's words name who removed them, and whether they may come back.
    if (error.code === 'removed') this.removal = error.message;
    else if (error.fatal) this.fatalError = error;
    else if ('kind' in error || error.code === 'connection-failed' || error.code === 'media-unavailable')
      this.mediaError = error;
    dispatchMeetEvent(this, 'meet-error', error);
  }

  /** The grid's "+N": the people list has everyone; take the visitor there. */
  #showPeople(): void {
    const title = this.renderRoot.querySelector<HTMLElement>('#participants-title');
    title?.scrollIntoView({ block: 'nearest' });
    title?.focus();
  }

  #onSpeaking(ids: readonly string[]): void {
    const latest = ids.at(-1);
    if (latest === undefined || latest === this.#activeSpeaker) return;
    this.#activeSpeaker = latest;
    const participant = this.#state.value?.participants.find((p) => p.id === latest);
    if (participant) dispatchMeetEvent(this, 'meet-active-speaker', { participant });
  }

  #onMutedSpeech(talking: boolean): void {
    if (talking === this.#talkingMuted) return;
    this.#talkingMuted = talking;
    dispatchMeetEvent(this, 'meet-muted-speech', { talking });
  }

  #onEvent(event: MeetingEvent): void {
    switch (event.type) {
      case 'joined':
        return void dispatchMeetEvent(this, 'meet-joined', { participant: event.participant });
      case 'left':
        this.#showNotice(null);
        if (event.reason === 'removed')
          this.removal = `${event.by?.name ?? 'A host'} removed you from the meeting.`;
        return void dispatchMeetEvent(this, 'meet-left', { reason: event.reason, by: event.by });
      case 'participant-joined':
        return void dispatchMeetEvent(this, 'meet-participant-joined', { participant: event.participant });
      case 'participant-updated':
        return void dispatchMeetEvent(this, 'meet-participant-updated', {
          participant: event.participant,
          changes: event.changes,
        });
      case 'participant-left':
        return void dispatchMeetEvent(this, 'meet-participant-left', {
          participant: event.participant,
          reason: event.reason,
          by: event.by,
        });
      case 'meeting-ended':
        if (event.by !== null) this.endedBy = event.by;
        return;
      case 'moderated':
        // Only in a meeting, so the meeting layout is here.
        if (meetingLayout) this.#showNotice(meetingLayout.moderationNotice(event.action, event.by));
        return void dispatchMeetEvent(this, 'meet-moderated', { action: event.action, by: event.by });
    }
  }

  /** Shows a notice (in place of any other) for `holdMs`, or until cleared with 0; null hides it. */
  #showNotice(notice: string | null, kind: NoticeKind = 'moderation', holdMs = NOTICE_MS): void {
    clearTimeout(this.#noticeTimer);
    this.notice = notice;
    this.#noticeKind = notice ? kind : null;
    if (notice && holdMs > 0) this.#noticeTimer = setTimeout(() => this.#showNotice(null), holdMs);
  }

  /** Hides the notice if it is of this kind (the condition it told of is over). */
  #clearNotice(kind: NoticeKind): void {
    if (this.#noticeKind === kind) this.#showNotice(null);
  }

  protected override render() {
    const self = this.participant;
    const over = this.fatalError !== null || !!this.endedBy || this.removal !== null;
    return html`
      ${this.fatalError
        ? html`<div part="error" role="alert">
            <strong>Can't open this meeting.</strong> ${this.fatalError.message}
          </div>`
        : nothing}
      ${this.endedBy
        ? html`<div part="status" role="status">${this.endedBy.name} ended the meeting for everyone.</div>`
        : nothing}
      ${this.removal ? html`<div part="status" role="status">${this.removal}</div>` : nothing}
      ${over ? nothing : this.#renderStatus()}
      ${this.mediaError && !over
        ? html`<div part="media-error" role="alert">
            <span>${this.mediaError.message}</span>
            <button type="button" @click=${() => (this.mediaError = null)}>Dismiss</button>
          </div>`
        : nothing}
      <div part="notice" role="status" ?hidden=${!this.notice}>
        <span>${this.notice ?? ''}</span>
        <button type="button" @click=${() => this.#showNotice(null)}>Dismiss</button>
      </div>
      ${this.#feedback?.render()} ${over || self ? nothing : this.#renderLobby()}
      <div part="meeting" class="meeting" ?hidden=${over || !self}>
        <slot
          >${self && meetingLayout ? meetingLayout.renderMeetingView(this.#meetingView(self)) : nothing}</slot
        >
      </div>
    `;
  }

  #renderStatus() {
    const text: Partial<Record<MeetingPhase, string>> = {
      reconnecting: 'Connection lost. Reconnecting…',
    };
    const connecting = this.meeting && this.#connection.value !== 'open' && !this.#state.value?.selfId;
    const media =
      this.phase === 'joined' && this.#mediaConnection.value === 'reconnecting'
        ? 'Audio and video interrupted. Reconnecting…'
        : undefined;
    const message = text[this.phase] ?? media ?? (connecting ? 'Connecting…' : undefined);
    return html`<div part="status" role="status" ?hidden=${!message}>${message ?? ''}</div>`;
  }

  #renderLobby() {
    const state = this.#state.value;
    const local = this.#local.value;
    // People, not the AI agent, whom a visitor is told about apart.
    const count = state?.participants.filter((p) => p.role !== 'agent').length ?? 0;
    const withAi = state?.participants.some((p) => p.role === 'agent') ? ' The AI is there too.' : '';
    const ready = this.#connection.value === 'open' && state?.selfId != null;
    const people =
      (count === 0
        ? 'Nobody is in the meeting yet.'
        : count === 1
          ? '1 person is in the meeting.'
          : `${count} people are in the meeting.`) + withAi;
    const name = (this.name || this.typedName).trim() || 'You';
    return html`
      <section part="lobby" aria-labelledby="lobby-title">
        <h2 id="lobby-title">Join “${this.room}”</h2>
        <p class="muted" aria-live="polite">${people}</p>
        <div class="lobby-layout">
          ${lobbyPreview(name, (local?.camera && local.cameraStream) || null)}
          <div class="lobby-side">
            <div class="toggles" role="group" aria-label="Before you join">
              ${lobbyToggle('Microphone', !!local?.microphone, (on) => this.setMicrophone(on))}
              ${lobbyToggle('Camera', !!local?.camera, (on) => this.setCamera(on))}
              <button
                type="button"
                aria-expanded=${this.choosingDevices ? 'true' : 'false'}
                @click=${() => (this.choosingDevices = !this.choosingDevices)}
              >
                Devices
              </button>
            </div>
            ${this.choosingDevices ? html`<meet-device-picker no-preview></meet-device-picker>` : nothing}
            <form @submit=${(event: SubmitEvent) => this.#submitLobby(event)}>
              ${this.name
                ? html`<p>You will join as <strong>${this.name}</strong>.</p>`
                : html`<label>
                    Your name
                    <input
                      name="name"
                      autocomplete="name"
                      required
                      maxlength=${NAME_MAX_LENGTH}
                      .value=${this.typedName}
                      @input=${(e: InputEvent) => (this.typedName = (e.target as HTMLInputElement).value)}
                    />
                  </label>`}
              <button class="primary" type="submit" ?disabled=${!ready}>Join</button>
            </form>
          </div>
        </div>
      </section>
    `;
  }

  #submitLobby(event: SubmitEvent): void {
    event.preventDefault();
    this.join();
  }

  /** What the meeting layout shows, and what it may do here. */
  #meetingView(self: Participant): MeetingView {
    return {
      self,
      participants: this.#state.value?.participants ?? [],
      speaking: new Set(this.#speaking.value),
      pinned: this.#pinned.value ?? null,
      maxTiles: this.maxTiles,
      aiAvailable: !!this.#ai.value?.available,
      meeting: this.meeting,
      actionsFor: this.actionsFor,
      setActionsFor: (actions) => (this.actionsFor = actions),
      askToRemove: (id) => void this.#askToRemove(id),
      showPeople: () => this.#showPeople(),
    };
  }

  /**
   * Adds the meeting layout's styles to this room's, its feedback controller
   * and its poor-connection notice, once that module is here.
   */
  #adoptMeetingLayout(): void {
    if (!meetingLayout || !(this.renderRoot instanceof ShadowRoot)) return;
    const { meetingViewStyles, roomFeedbackStyles, RoomFeedback, PoorConnectionNotice } = meetingLayout;
    adoptStyles(this.renderRoot, [...MeetRoom.elementStyles, meetingViewStyles, roomFeedbackStyles]);
    this.#feedback ??= new RoomFeedback(this);
    this.#poorConnection ??= new PoorConnectionNotice((notice) =>
      notice ? this.#showNotice(notice, 'poor-connection', 0) : this.#clearNotice('poor-connection'),
    );
  }

  /** Also waits for the meeting layout while in the meeting, so that what it shows has been rendered. */
  protected override async getUpdateComplete(): Promise<boolean> {
    const done = await super.getUpdateComplete();
    if (meetingLayout || !this.participant) return done;
    await loadMeetingLayout();
    return super.getUpdateComplete();
  }

  async #askToRemove(id: string): Promise<void> {
    this.actionsFor = { id, confirmingRemoval: true };
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLButtonElement>('.confirm .danger')?.focus();
  }
}

/** A lobby switch: says whether it is on, and flips it. */
function lobbyToggle(label: string, on: boolean, set: (on: boolean) => Promise<void>) {
  return html`<button type="button" aria-pressed=${on ? 'true' : 'false'} @click=${() => void set(!on)}>
    ${label} ${on ? 'on' : 'off'}
  </button>`;
}

function readRememberedName(): string {
  try {
    return localStorage.getItem(REMEMBERED_NAME_KEY) ?? '';
  } catch {
    return ''; // Storage blocked (third-party iframe, privacy mode).
  }
}

function rememberName(name: string): void {
  try {
    localStorage.setItem(REMEMBERED_NAME_KEY, name.trim());
  } catch {
    // Not remembered; the lobby will ask again.
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'meet-room': MeetRoom;
  }
}
