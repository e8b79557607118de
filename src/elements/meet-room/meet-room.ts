import { provide } from '@lit/context';
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
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
import { ObserveController } from '../observe-controller.js';
import { roomContext } from '../room-context.js';
import { meetRoomStyles } from './meet-room.styles.js';

/** Where the lobby remembers the name a visitor typed last time. */
export const REMEMBERED_NAME_KEY = 'meet-display-name';

/**
 * A whole meeting room: a lobby that asks for a display name, then the
 * participants and the controls. It owns the room connection and provides
 * it to elements inside it through `@lit/context`.
 *
 * The lobby always shows first (joining will need a click for camera and
 * microphone); with a `name` attribute it does not ask for one, and `join()`
 * joins from script.
 *
 * @event meet-joined - This participant joined. `detail.participant`.
 * @event meet-left - This participant left. `detail.reason`.
 * @event meet-participant-joined - Someone else joined. `detail.participant`.
 * @event meet-participant-left - Someone else left. `detail.participant`, `detail.reason`.
 * @event meet-error - A problem to show or log. `detail.code`, `detail.message`, `detail.fatal`.
 *
 * @csspart status - The connection banner (connecting, reconnecting).
 * @csspart error - The message shown when the room cannot be used.
 * @csspart lobby - The lobby: name field and Join button.
 * @csspart participants - The list of participants.
 * @csspart participant - One participant (also `participant self` for you).
 * @csspart controls - Raise hand, leave and host actions.
 *
 * @cssproperty --meet-room-radius - Corner radius of the room.
 * @cssproperty --meet-room-min-height - Minimum height of the room.
 */
export class MeetRoom extends LitElement {
  static override styles = [themeStyles, controlStyles, meetRoomStyles];

  /** Room name: letters, digits, `-` and `_`, up to 64. Required. */
  @property({ reflect: true }) room = '';
  /** Meetkit server origin; defaults to where the script was loaded from. */
  @property() server = '';
  /** Display name; when set the lobby does not ask for one. */
  @property() name = '';
  /** Join token, when the server requires one. */
  @property() token = '';
  /** `light` or `dark`; unset follows the page's `prefers-color-scheme`. */
  @property({ reflect: true }) theme: 'light' | 'dark' | undefined;

  /** The room client, for elements inside this one. */
  @provide({ context: roomContext })
  @state()
  protected client: RoomClient | undefined;

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

  /** Joins the meeting, with `name` or the name given in the lobby. Resolves false if it could not start. */
  join(name: string = this.name || this.typedName): boolean {
    if (!this.client) return false;
    const started = this.client.join(name);
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
  }

  #disconnect(): void {
    for (const controller of [this.#state, this.#connection, this.#errors, this.#events])
      controller.observe(undefined);
    this.client?.close();
    this.client = undefined;
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
    if (this.fatalError) {
      return html`<div part="error" role="alert">
        <strong>Can't open this meeting.</strong> ${this.fatalError.message}
      </div>`;
    }
    if (this.endedBy !== undefined && this.endedBy !== null) {
      return html`<div part="status" role="status">
        ${this.endedBy.name} ended the meeting for everyone.
      </div>`;
    }
    const self = this.#self;
    return html`${this.#renderStatus()}${self ? this.#renderMeeting(self) : this.#renderLobby()}`;
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
    const count = state?.participants.length ?? 0;
    const ready = this.#connection.value === 'open' && state?.selfId != null;
    const people =
      count === 0
        ? 'Nobody is in the meeting yet.'
        : count === 1
          ? '1 person is in the meeting.'
          : `${count} people are in the meeting.`;
    return html`
      <section part="lobby" aria-labelledby="lobby-title">
        <h2 id="lobby-title">Join “${this.room}”</h2>
        <p class="muted" aria-live="polite">${people}</p>
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
      <section aria-labelledby="participants-title">
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
      <div part="controls" role="toolbar" aria-label="Meeting controls">
        <button
          type="button"
          aria-pressed=${self.handRaised ? 'true' : 'false'}
          @click=${() => this.raiseHand(!self.handRaised)}
        >
          ${self.handRaised ? 'Lower hand' : 'Raise hand'}
        </button>
        <button type="button" class="danger" @click=${() => this.leave()}>Leave</button>
        ${isHost
          ? html`<button type="button" class="end danger" @click=${() => this.client?.endMeeting()}>
              End meeting for all
            </button>`
          : nothing}
      </div>
    `;
  }
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
