import { provide } from '@lit/context';
import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { skip, type Subscription } from 'rxjs';
import { createCallClient, type MeetCallClient } from '../../client/call-client.js';
import type { CallClient, CallError, LocalMedia } from '../../client/call-types.js';
import { createDevices, type Devices } from '../../client/devices.js';
import { createMediaApi } from '../../client/media-api.js';
import {
  createRoomClient,
  type ConnectionStatus,
  type RoomClient,
  type RoomError,
  type RoomEvent,
} from '../../client/room-client.js';
import type { RoomState } from '../../client/room-state.js';
import { meetEvent } from '../../events/meet-events.js';
import { NAME_MAX_LENGTH, ROOM_NAME_PATTERN, type Participant } from '../../protocol/index.js';
import { scriptOrigin } from '../../script-origin.js';
import { controlStyles, themeStyles } from '../../styles/tokens.js';
import { callContext } from '../call-context.js';
import { devicesContext } from '../devices-context.js';
import { MeetControls } from '../meet-controls/meet-controls.js';
import { MeetDevicePicker } from '../meet-device-picker/meet-device-picker.js';
import { MeetElement } from '../meet-element.js';
import { MeetParticipantGrid } from '../meet-participant-grid/meet-participant-grid.js';
import { MeetParticipantTile } from '../meet-participant-tile/meet-participant-tile.js';
import { ObserveController } from '../observe-controller.js';
import { roomContext } from '../room-context.js';
import { meetRoomStyles } from './meet-room.styles.js';

/** Where the lobby remembers the name a visitor typed last time. */
export const REMEMBERED_NAME_KEY = 'meet-display-name';

/**
 * A whole meeting room: a lobby with a camera preview, microphone and camera
 * toggles, device choice and a name, then the video grid, the people list
 * and the controls. It owns the room connection, the media (call) client and
 * the device manager, and provides them to the elements inside it through
 * `@lit/context`, so a host page can slot its own arrangement of
 * `<meet-participant-grid>`, `<meet-controls>` and `<meet-device-picker>`.
 *
 * The lobby always shows first (camera and microphone start with a click);
 * with a `name` attribute it does not ask for one, and `join()` joins from
 * script.
 *
 * @tagname meet-room
 *
 * @slot - Replaces the default meeting layout (grid, people, controls) while joined.
 * @event meet-joined - This participant joined. `detail.participant`.
 * @event meet-left - This participant left. `detail.reason`.
 * @event meet-participant-joined - Someone else joined. `detail.participant`.
 * @event meet-participant-left - Someone else left. `detail.participant`, `detail.reason`.
 * @event meet-error - A problem to show or log: the room, a device or the media connection.
 *   `detail.code`, `detail.message`, `detail.fatal`, and `detail.kind` for a device.
 *
 * @csspart status - The connection banner (connecting, reconnecting).
 * @csspart error - The message shown when the room cannot be used.
 * @csspart lobby - The lobby: preview, toggles, devices, name field and Join button.
 * @csspart preview - The lobby's self preview (a `<meet-participant-tile>`).
 * @csspart media-error - A device or media problem, with what to do.
 * @csspart meeting - The joined view (holds the slot).
 * @csspart grid - The default `<meet-participant-grid>`.
 * @csspart people - The side list of participants with host actions.
 * @csspart participants - The list of participants.
 * @csspart participant - One participant in the list.
 * @csspart self - Your own row in the list (with `participant`).
 * @csspart controls - The default `<meet-controls>`.
 * @csspart host-controls - Host actions (End meeting for all).
 *
 * @cssproperty --meet-room-radius - Corner radius of the room.
 * @cssproperty --meet-room-min-height - Minimum height of the room.
 * @cssproperty --meet-room-grid-min-height - Minimum height of its video grid.
 */
export class MeetRoom extends MeetElement {
  static override styles = [themeStyles, controlStyles, meetRoomStyles];
  static override dependencies = {
    'meet-participant-grid': MeetParticipantGrid,
    'meet-participant-tile': MeetParticipantTile,
    'meet-controls': MeetControls,
    'meet-device-picker': MeetDevicePicker,
  };

  /** Room name: letters, digits, `-` and `_`, up to 64. Required. */
  @property({ reflect: true }) room = '';
  /** Meetkit server origin; defaults to where the script was loaded from. */
  @property() server = '';
  /** Display name; when set the lobby does not ask for one. */
  @property() name = '';
  /** Join token, when the server requires one. */
  @property() token = '';

  /** The room client, for elements inside this one. */
  @provide({ context: roomContext })
  @state()
  protected client: RoomClient | undefined;

  /** The media client, for elements inside this one. */
  @provide({ context: callContext })
  @state()
  protected call: CallClient | undefined;

  /** Cameras, microphones and speakers, for elements inside this one. */
  @provide({ context: devicesContext })
  @state()
  protected devices: Devices | undefined;

  @state() private mediaError: CallError | null = null;
  @state() private choosingDevices = false;
  #meetCall: MeetCallClient | undefined;
  #deviceSwitches: Subscription | undefined;
  readonly #local = new ObserveController<LocalMedia>(this);
  readonly #callErrors = new ObserveController<CallError>(this, (error) => this.#onCallError(error));

  @state() private fatalError: RoomError | null = null;
  @state() private endedBy: Participant | null | undefined;
  @state() private typedName = '';

  readonly #state = new ObserveController<RoomState>(this);
  readonly #connection = new ObserveController<ConnectionStatus>(this);
  readonly #errors = new ObserveController<RoomError>(this, (error) => this.#onError(error));
  readonly #events = new ObserveController<RoomEvent>(this, (event) => this.#onEvent(event));

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.typedName) this.typedName = readRememberedName();
    this.#connect();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#disconnect();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const target = changed.has('room') || changed.has('server') || changed.has('token');
    if (target && this.isConnected && this.hasUpdated) this.#connect();
  }

  /** Joins the meeting, with `name` or the name given in the lobby. Returns false if it could not start. */
  join(name: string = this.name || this.typedName): boolean {
    if (!this.client) return false;
    const media = this.#meetCall?.snapshot;
    const started = this.client.join(name, { microphone: !!media?.microphone, camera: !!media?.camera });
    if (started && !this.name) rememberName(name);
    return started;
  }

  /** Leaves the meeting and returns to the lobby. */
  leave(): void {
    if (!this.#self) return;
    this.client?.leave();
  }

  /** Raises (or with `false`, lowers) this participant's hand. */
  raiseHand(raised = true): void {
    this.client?.update({ handRaised: raised });
  }

  /** Turns the microphone on or off (in the lobby too). */
  setMicrophone(on: boolean): Promise<void> {
    return this.call?.setMicrophone(on) ?? Promise.resolve();
  }

  /** Turns the camera on or off (in the lobby too). */
  setCamera(on: boolean): Promise<void> {
    return this.call?.setCamera(on) ?? Promise.resolve();
  }

  /** Starts or stops sharing a screen (the browser asks which). */
  setScreenShare(on: boolean): Promise<void> {
    return this.call?.setScreenShare(on) ?? Promise.resolve();
  }

  get #self(): Participant | null {
    const state = this.#state.value;
    return state?.participants.find((p) => p.id === state.selfId) ?? null;
  }

  #connect(): void {
    this.#disconnect();
    this.fatalError = null;
    this.endedBy = undefined;
    if (!ROOM_NAME_PATTERN.test(this.room)) {
      const message = this.room
        ? `"${this.room}" is not a valid room name: use 1-64 letters, digits, "-" or "_".`
        : 'This meeting has no room: set the room attribute, e.g. <meet-room room="standup">.';
      // After the first render, so a page that listens once the element is
      // on the page (the usual order) still hears about it.
      void this.updateComplete.then(() => this.#onError({ code: 'invalid-room', message, fatal: true }));
      return;
    }
    this.client = createRoomClient({
      server: this.server || scriptOrigin,
      room: this.room,
      token: this.token || undefined,
    });
    this.#state.observe(this.client.state$);
    this.#connection.observe(this.client.connection$);
    this.#errors.observe(this.client.errors$);
    this.#events.observe(this.client.events$);
    this.#connectMedia(this.client, this.server || scriptOrigin);
  }

  #connectMedia(client: RoomClient, server: string): void {
    const devices = createDevices();
    let credentials: { participantId: string; key: string } | null = null;
    const api = createMediaApi(server, this.room, () => credentials);
    const call = createCallClient({ room: client, api, getStream: (request) => devices.getStream(request) });
    const switches = client.state$.subscribe((state) => {
      credentials =
        state.selfId && state.mediaKey ? { participantId: state.selfId, key: state.mediaKey } : null;
    });
    // A device chosen in the picker replaces the track being sent (no renegotiation).
    switches.add(
      devices
        .selected$('audioinput')
        .pipe(skip(1))
        .subscribe(() => void call.switchDevice('microphone')),
    );
    switches.add(
      devices
        .selected$('videoinput')
        .pipe(skip(1))
        .subscribe(() => void call.switchDevice('camera')),
    );
    this.#deviceSwitches = switches;
    this.devices = devices;
    this.#meetCall = call;
    this.call = call;
    this.#local.observe(call.local$);
    this.#callErrors.observe(call.errors$);
  }

  #disconnect(): void {
    for (const controller of [
      this.#state,
      this.#connection,
      this.#errors,
      this.#events,
      this.#local,
      this.#callErrors,
    ])
      controller.observe(undefined);
    this.#deviceSwitches?.unsubscribe();
    this.#meetCall?.close();
    this.devices?.close();
    this.client?.close();
    this.#deviceSwitches = undefined;
    this.#meetCall = undefined;
    this.call = undefined;
    this.devices = undefined;
    this.client = undefined;
    this.mediaError = null;
  }

  #onCallError(error: CallError): void {
    this.mediaError = error;
    this.dispatchEvent(meetEvent('meet-error', { ...error, fatal: false }));
  }

  #onError(error: RoomError): void {
    if (error.fatal) this.fatalError = error;
    this.dispatchEvent(meetEvent('meet-error', error));
  }

  #onEvent(event: RoomEvent): void {
    switch (event.type) {
      case 'participant-joined':
        return void this.dispatchEvent(
          event.self
            ? meetEvent('meet-joined', { participant: event.participant })
            : meetEvent('meet-participant-joined', { participant: event.participant }),
        );
      case 'participant-left':
        return void this.dispatchEvent(
          event.self
            ? meetEvent('meet-left', { reason: event.reason })
            : meetEvent('meet-participant-left', { participant: event.participant, reason: event.reason }),
        );
      case 'meeting-ended':
        if (event.by !== null) this.endedBy = event.by;
        return;
    }
  }

  protected override render() {
    const self = this.#self;
    const over = this.fatalError !== null || (this.endedBy !== undefined && this.endedBy !== null);
    return html`
      ${this.fatalError
        ? html`<div part="error" role="alert">
            <strong>Can't open this meeting.</strong> ${this.fatalError.message}
          </div>`
        : nothing}
      ${this.endedBy
        ? html`<div part="status" role="status">${this.endedBy.name} ended the meeting for everyone.</div>`
        : nothing}
      ${over ? nothing : this.#renderStatus()}
      ${this.mediaError && !over
        ? html`<div part="media-error" role="alert">
            <span>${this.mediaError.message}</span>
            <button type="button" @click=${() => (this.mediaError = null)}>Dismiss</button>
          </div>`
        : nothing}
      ${over || self ? nothing : this.#renderLobby()}
      <div part="meeting" class="meeting" ?hidden=${over || !self}>
        <slot>${self ? this.#renderMeeting(self) : nothing}</slot>
      </div>
    `;
  }

  #renderStatus() {
    const status = this.#connection.value;
    const text: Partial<Record<ConnectionStatus, string>> = {
      connecting: 'Connecting…',
      reconnecting: 'Connection lost. Reconnecting…',
    };
    return html`<div part="status" role="status" ?hidden=${!status || !text[status]}>
      ${status ? text[status] : ''}
    </div>`;
  }

  #renderLobby() {
    const state = this.#state.value;
    const local = this.#local.value;
    const count = state?.participants.length ?? 0;
    const ready = this.#connection.value === 'open' && state?.selfId != null;
    const people =
      count === 0
        ? 'Nobody is in the meeting yet.'
        : count === 1
          ? '1 person is in the meeting.'
          : `${count} people are in the meeting.`;
    const you: Participant = {
      id: 'lobby',
      name: (this.name || this.typedName).trim() || 'You',
      role: 'guest',
      joinedAt: 0,
      microphone: !!local?.microphone,
      camera: !!local?.camera,
      handRaised: false,
      tracks: {},
    };
    return html`
      <section part="lobby" aria-labelledby="lobby-title">
        <h2 id="lobby-title">Join “${this.room}”</h2>
        <p class="muted" aria-live="polite">${people}</p>
        <div class="lobby-layout">
          <meet-participant-tile
            part="preview"
            local
            .participant=${you}
            .stream=${local?.cameraStream ?? null}
          ></meet-participant-tile>
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

  #renderMeeting(self: Participant) {
    const participants = this.#state.value?.participants ?? [];
    const isHost = self.role === 'host';
    return html`
      <div class="stage">
        <meet-participant-grid part="grid"></meet-participant-grid>
        <section part="people" aria-labelledby="participants-title">
          <h2 id="participants-title">In the meeting (${participants.length})</h2>
          <ul part="participants">
            ${participants.map((p) => {
              const you = p.id === self.id;
              return html`<li
                part=${you ? 'participant self' : 'participant'}
                ?data-hand-raised=${p.handRaised}
              >
                <span class="name">${p.name}${you ? ' (you)' : ''}</span>
                ${p.role === 'host' ? html`<span class="badge host">Host</span>` : nothing}
                ${p.handRaised ? html`<span class="badge hand">Hand raised</span>` : nothing}
                ${p.microphone ? nothing : html`<span class="badge muted">Muted</span>`}
                ${isHost && !you
                  ? html`<button
                      type="button"
                      ?disabled=${!p.microphone}
                      @click=${() => this.client?.muteParticipant(p.id)}
                      aria-label=${`Mute ${p.name}`}
                    >
                      Mute
                    </button>`
                  : nothing}
              </li>`;
            })}
          </ul>
        </section>
      </div>
      <div class="bar">
        <meet-controls part="controls"></meet-controls>
        ${isHost
          ? html`<div part="host-controls">
              <button type="button" class="end danger" @click=${() => this.client?.endMeeting()}>
                End meeting for all
              </button>
            </div>`
          : nothing}
      </div>
    `;
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
