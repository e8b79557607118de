import { consume } from '@lit/context';
import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { firstValueFrom } from 'rxjs';
import {
  createDevices,
  DEVICE_KINDS,
  DeviceError,
  type DeviceKind,
  type DeviceLists,
  type Devices,
  type InputKind,
} from '../../client/devices.js';
import { meterStream } from '../../client/media/level-meter.js';
import { dispatchMeetEvent } from '../../events/meet-events.js';
import { controlStyles, themeStyles } from '../../styles/tokens.js';
import { devicesContext } from '../devices-context.js';
import { MeetElement } from '../meet-element.js';
import { ObserveController } from '../observe-controller.js';
import { meetDevicePickerStyles } from './meet-device-picker.styles.js';

type Medium = 'camera' | 'microphone';
const mediumOf: Record<InputKind, Medium> = { videoinput: 'camera', audioinput: 'microphone' };
const fieldName: Record<DeviceKind, string> = {
  videoinput: 'Camera',
  audioinput: 'Microphone',
  audiooutput: 'Speaker',
};

/** The microphone being measured. */
interface Meter {
  track: MediaStreamTrack;
  /** Stops measuring and releases the microphone. */
  stop(): void;
}

/**
 * Choose the camera, microphone and speaker, with a live camera preview and
 * a microphone level meter. Uses the device manager an ancestor provides
 * (`<meet-room>`), or its own when used alone on a page. Choices are
 * remembered for the next visit; plugging a device in adds it at once.
 *
 * @tagname meet-device-picker
 *
 * @event meet-device-change - The user chose a device. `detail.kind` (`videoinput`, `audioinput`, `audiooutput`), `detail.deviceId` (null: the default).
 * @event meet-error - A device could not be opened. `detail.code`, `detail.message` (what to do), `detail.kind`, `detail.fatal` (always false).
 *
 * @csspart preview - The mirrored camera preview, 4:3 (absent with `no-preview`).
 * @csspart level - The microphone level meter.
 * @csspart field - Each label with its select.
 * @csspart select - Each select.
 * @csspart error - What went wrong and what to do about it.
 */
export class MeetDevicePicker extends MeetElement {
  static override styles = [themeStyles, controlStyles, meetDevicePickerStyles];

  /** Hides the camera preview (and leaves the camera closed), for hosts that already show one. */
  @property({ type: Boolean, reflect: true, attribute: 'no-preview' }) noPreview = false;

  @consume({ context: devicesContext, subscribe: true })
  @state()
  private provided: Devices | undefined;

  @state() private cameraStream: MediaStream | null = null;
  @state() private level = 0;
  @state() private errors: ReadonlyMap<Medium, DeviceError> = new Map();

  /** The manager in use: the provided one, or `#own`. */
  #devices: Devices | undefined;
  /** Made here while no ancestor provides one; closed on disconnect. */
  #own: Devices | undefined;
  #meter: Meter | null = null;
  /** Devices to (re)open at the next update; several changes at once make one request. */
  readonly #toOpen = new Set<InputKind>();
  /** Bumped on every open and release, so a late answer for an old choice is dropped. */
  readonly #attempt: Record<InputKind, number> = { videoinput: 0, audioinput: 0 };

  readonly #lists = new ObserveController<DeviceLists>(this);
  readonly #selected: Record<DeviceKind, ObserveController<string | null>> = {
    videoinput: new ObserveController(this, () => this.#reopen('videoinput')),
    audioinput: new ObserveController(this, () => this.#reopen('audioinput')),
    audiooutput: new ObserveController(this),
  };

  override connectedCallback(): void {
    super.connectedCallback();
    this.#useDevices();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stopUsing();
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('provided')) this.#useDevices();
    // Before the first update the choices are not known yet: their arrival opens the devices.
    if (changed.has('noPreview') && this.hasUpdated) {
      if (this.noPreview) {
        this.#release('videoinput');
        this.#toOpen.delete('videoinput');
      } else if (this.#devices) {
        this.#toOpen.add('videoinput');
      }
    }
    if (this.#toOpen.size && this.#devices && this.isConnected) {
      void this.#open(this.#devices, [...this.#toOpen]);
      this.#toOpen.clear();
    }
  }

  protected override updated(): void {
    const video = this.renderRoot.querySelector('video');
    // Not a .srcObject binding: Lit sets objects on every render, and each set restarts loading.
    if (video && video.srcObject !== this.cameraStream) video.srcObject = this.cameraStream;
  }

  /** Follows the provided manager, or makes one while there is none. */
  #useDevices(): void {
    if (!this.isConnected) return;
    if (this.provided) {
      this.#own?.close();
      this.#own = undefined;
    } else {
      this.#own ??= createDevices();
    }
    const devices = this.provided ?? this.#own!;
    if (devices === this.#devices) return;
    this.#stopMedia();
    this.#devices = devices;
    this.#lists.observe(devices.devices$);
    for (const kind of DEVICE_KINDS) this.#selected[kind].observe(devices.selected$(kind));
  }

  #stopUsing(): void {
    this.#stopMedia();
    this.#lists.observe(undefined);
    for (const kind of DEVICE_KINDS) this.#selected[kind].observe(undefined);
    this.#devices = undefined;
    this.#own?.close();
    this.#own = undefined;
  }

  #stopMedia(): void {
    this.#toOpen.clear();
    this.#release('videoinput');
    this.#release('audioinput');
    this.errors = new Map();
  }

  /** The choice changed (or the device went away): open it at the next update. */
  #reopen(kind: InputKind): void {
    if (kind === 'videoinput' && this.noPreview) return;
    this.#toOpen.add(kind);
  }

  async #open(devices: Devices, kinds: InputKind[]): Promise<void> {
    const attempts = new Map(kinds.map((kind) => [kind, ++this.#attempt[kind]] as const));
    const current = (kind: InputKind) =>
      attempts.get(kind) === this.#attempt[kind] && this.#devices === devices;
    for (const kind of kinds) this.#release(kind, false);

    const request = async (wanted: InputKind[]): Promise<void> => {
      let stream: MediaStream;
      try {
        stream = await devices.getStream({
          audio: wanted.includes('audioinput'),
          video: wanted.includes('videoinput'),
        });
      } catch (error) {
        if (!(error instanceof DeviceError)) throw error;
        const alone = wanted.length > 1 ? await this.#worthAlone(devices, wanted, error) : [];
        if (alone.length) {
          // A missing camera must not keep the microphone closed, and the other way round.
          await Promise.all(alone.map((kind) => request([kind])));
          return this.#fail(
            error,
            wanted.filter((kind) => !alone.includes(kind) && current(kind)),
          );
        }
        return this.#fail(
          error,
          wanted.filter((kind) => current(kind)),
        );
      }
      for (const track of stream.getTracks()) {
        const kind: InputKind = track.kind === 'video' ? 'videoinput' : 'audioinput';
        if (current(kind)) this.#use(kind, track);
        else track.stop();
      }
    };
    await request(kinds);
  }

  /**
   * Which of the devices asked for together to try one by one: all of them,
   * unless permission was refused; then only those the browser will not
   * prompt for again (a refused prompt is not asked twice).
   */
  async #worthAlone(devices: Devices, kinds: InputKind[], error: DeviceError): Promise<InputKind[]> {
    if (error.code !== 'permission-denied') return kinds;
    const states = await Promise.all(
      kinds.map((kind) => firstValueFrom(devices.permission$(mediumOf[kind]), { defaultValue: 'unknown' })),
    );
    return kinds.filter((_, i) => states[i] === 'granted' || states[i] === 'denied');
  }

  #use(kind: InputKind, track: MediaStreamTrack): void {
    this.#clearError(mediumOf[kind]);
    // Unplugged while in use: open whatever is there now.
    track.addEventListener('ended', () => {
      if (this.#isInUse(track)) {
        this.#reopen(kind);
        this.requestUpdate();
      }
    });
    if (kind === 'videoinput') this.cameraStream = new MediaStream([track]);
    else this.#startMeter(track);
  }

  #isInUse(track: MediaStreamTrack): boolean {
    return this.#meter?.track === track || !!this.cameraStream?.getTracks().includes(track);
  }

  #fail(error: DeviceError, kinds: InputKind[]): void {
    if (!kinds.length || !this.isConnected) return;
    const errors = new Map(this.errors);
    for (const kind of kinds) errors.set(mediumOf[kind], error);
    this.errors = errors;
    const { code, message, kind } = error;
    dispatchMeetEvent(this, 'meet-error', { code, message, fatal: false, ...(kind && { kind }) });
  }

  #clearError(medium: Medium): void {
    if (!this.errors.has(medium)) return;
    const errors = new Map(this.errors);
    errors.delete(medium);
    this.errors = errors;
  }

  /** Stops a device; `invalidate` also drops an answer still on its way. */
  #release(kind: InputKind, invalidate = true): void {
    if (invalidate) this.#attempt[kind]++;
    if (kind === 'videoinput') {
      for (const track of this.cameraStream?.getTracks() ?? []) track.stop();
      this.cameraStream = null;
      if (invalidate) this.#clearError('camera');
      return;
    }
    this.#meter?.stop();
    this.#meter = null;
    this.level = 0;
    if (invalidate) this.#clearError('microphone');
  }

  #startMeter(track: MediaStreamTrack): void {
    const meter = meterStream(new MediaStream([track]));
    let frame = 0;
    const measure = () => {
      // -60 dB (silence) to 0 dB on the meter; falling slowly so it is readable between words.
      const decibels = 20 * Math.log10(meter?.level() || 1e-3);
      const loudness = Math.min(1, Math.max(0, (decibels + 60) / 60));
      this.level = Math.round(Math.max(loudness, this.level * 0.92) * 100) / 100;
      frame = requestAnimationFrame(measure);
    };
    if (meter) frame = requestAnimationFrame(measure);
    this.#meter = {
      track,
      stop() {
        cancelAnimationFrame(frame);
        if (meter) meter.close();
        else track.stop();
      },
    };
  }

  #choose(kind: DeviceKind, value: string): void {
    const deviceId = value || null;
    this.#devices?.select(kind, deviceId);
    dispatchMeetEvent(this, 'meet-device-change', { kind, deviceId });
  }

  protected override render() {
    const messages = new Set([...this.errors.values()].map((error) => error.message));
    return html`
      ${this.noPreview
        ? nothing
        : html`<video
            part="preview"
            aria-label="Camera preview"
            muted
            playsinline
            autoplay
            ?data-off=${!this.cameraStream}
          ></video>`}
      <div part="error" role="alert" ?hidden=${messages.size === 0}>
        ${[...messages].map((message) => html`<p>${message}</p>`)}
      </div>
      <div class="fields">
        ${this.#field('videoinput')}
        <div class="microphone">
          ${this.#field('audioinput')}
          <meter part="level" aria-label="Microphone level" min="0" max="1" .value=${this.level}></meter>
        </div>
        ${this.#devices?.supportsSpeakerSelection ? this.#field('audiooutput') : nothing}
      </div>
    `;
  }

  #field(kind: DeviceKind) {
    const name = fieldName[kind];
    // Before permission some browsers list devices without an id: they cannot be chosen.
    const devices = (this.#lists.value?.[kind] ?? []).filter((device) => device.deviceId);
    const selected = this.#selected[kind].value ?? null;
    return html`<label part="field">
      <span>${name}</span>
      <select
        part="select"
        name=${kind}
        @change=${(event: Event) => this.#choose(kind, (event.target as HTMLSelectElement).value)}
      >
        <option value="" .selected=${selected === null}>Default</option>
        ${devices.map(
          (device, i) =>
            html`<option value=${device.deviceId} .selected=${device.deviceId === selected}>
              ${device.label || `${name} ${i + 1}`}
            </option>`,
        )}
      </select>
    </label>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'meet-device-picker': MeetDevicePicker;
  }
}
