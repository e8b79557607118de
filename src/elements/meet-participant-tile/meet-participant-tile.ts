import { html, nothing, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
import type { Participant } from '../../protocol/index.js';
import { themeStyles } from '../../styles/tokens.js';
import { MeetElement } from '../meet-element.js';
import { meetParticipantTileStyles } from './meet-participant-tile.styles.js';

/**
 * One participant's video (or their screen share) with their name, a
 * microphone-off indicator, a host badge and a raised hand. Without live
 * video it shows the first letter of their name instead.
 *
 * The video is always muted; a remote participant's sound plays from a
 * separate audio element, so it keeps playing while their video is hidden.
 * Your own tile (`local`) never plays your sound and mirrors your camera.
 *
 * @csspart video - The `<video>` element.
 * @csspart audio - The `<audio>` element (remote camera tiles only).
 * @csspart avatar - The initial shown while the camera is off.
 * @csspart name - The name label.
 * @csspart muted-indicator - Shown while the microphone is off.
 * @csspart host-badge - Shown for hosts.
 * @csspart hand - Shown while the hand is raised.
 *
 * @cssproperty --meet-tile-radius - Corner radius of a tile (falls back to `--meet-radius`).
 */
export class MeetParticipantTile extends MeetElement {
  static override styles = [themeStyles, meetParticipantTileStyles];

  /** Who this tile shows. */
  @property({ attribute: false }) participant: Participant | null = null;
  /** Their camera and microphone (or their screen, with `screen-share`). */
  @property({ attribute: false }) stream: MediaStream | null = null;
  /** This is you: your sound is never played and your camera is mirrored. */
  @property({ type: Boolean, reflect: true }) local = false;
  /** The tile shows a screen share: whole (not cropped), not mirrored. */
  @property({ type: Boolean, reflect: true, attribute: 'screen-share' }) screenShare = false;
  /** Speaker for this participant's sound (`setSinkId`); empty: the default one. */
  @property({ attribute: 'sink-id' }) sinkId = '';

  /** Reflects the participant's microphone being off. Set from `participant`. */
  @property({ type: Boolean, reflect: true }) muted = false;
  /** Reflects that there is no video to show. Set from `participant` and `stream`. */
  @property({ type: Boolean, reflect: true, attribute: 'camera-off' }) cameraOff = false;
  /** Reflects a raised hand. Set from `participant`. */
  @property({ type: Boolean, reflect: true, attribute: 'hand-raised' }) handRaised = false;
  /** Reflects the participant being a host. Set from `participant`. */
  @property({ type: Boolean, reflect: true }) host = false;

  /** Only the audio tracks, kept while they stay the same so playback never restarts. */
  #audio: { key: string; stream: MediaStream | null } = { key: '', stream: null };
  #unwatch: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.#watch();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  protected override updated(): void {
    const audio = this.renderRoot.querySelector<HTMLAudioElement & { sinkId?: string }>('audio');
    if (audio && 'setSinkId' in audio && audio.sinkId !== this.sinkId) {
      // A speaker that went away falls back to the default; nothing to tell the user.
      audio.setSinkId(this.sinkId).catch(() => undefined);
    }
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('stream') && this.isConnected) this.#watch();
    const p = this.participant;
    const camera = !this.screenShare;
    this.muted = camera && p !== null && !p.microphone;
    this.cameraOff = camera && (!p?.camera || !hasLiveVideo(this.stream));
    this.handRaised = camera && !!p?.handRaised;
    this.host = p?.role === 'host';
    this.#updateAudio();
  }

  /** Re-renders when tracks come, go, end, or stop/start flowing. */
  #watch(): void {
    this.#unwatch?.();
    this.#unwatch = this.stream ? watchStream(this.stream, () => this.requestUpdate()) : undefined;
  }

  #updateAudio(): void {
    const tracks = this.local || this.screenShare ? [] : (this.stream?.getAudioTracks() ?? []);
    const key = tracks.map((t) => t.id).join(' ');
    if (key === this.#audio.key) return;
    this.#audio = { key, stream: tracks.length > 0 ? new MediaStream(tracks) : null };
  }

  get #label(): string {
    const name = this.participant?.name ?? 'Participant';
    return `${this.screenShare ? `${name}'s screen` : name}${this.local ? ' (you)' : ''}`;
  }

  protected override render() {
    const name = this.participant?.name ?? '';
    const camera = !this.screenShare;
    return html`
      <div class="tile" role="group" aria-label=${this.#label}>
        <video
          part="video"
          autoplay
          playsinline
          muted
          ?hidden=${this.cameraOff}
          .srcObject=${this.cameraOff ? null : this.stream}
        ></video>
        ${this.local || this.screenShare
          ? nothing
          : html`<audio part="audio" autoplay .srcObject=${this.#audio.stream}></audio>`}
        ${this.cameraOff ? html`<span part="avatar" aria-hidden="true">${initial(name)}</span>` : nothing}
        ${this.handRaised
          ? html`<span part="hand" class="badge" role="img" aria-label="Hand raised">${handIcon}</span>`
          : nothing}
        <div class="caption">
          ${this.muted
            ? html`<span part="muted-indicator" class="badge" role="img" aria-label="Microphone off"
                >${micOffIcon}</span
              >`
            : nothing}
          <span part="name">${this.#label}</span>
          ${this.host && camera ? html`<span part="host-badge">Host</span>` : nothing}
        </div>
      </div>
    `;
  }
}

function hasLiveVideo(stream: MediaStream | null): boolean {
  return !!stream?.getVideoTracks().some((track) => track.readyState === 'live' && !track.muted);
}

/** Calls `onChange` when `stream` gains or loses a track, or one of its tracks ends, mutes or unmutes. */
function watchStream(stream: MediaStream, onChange: () => void): () => void {
  const trackEvents = ['ended', 'mute', 'unmute'] as const;
  let tracks: MediaStreamTrack[] = [];
  const watchTracks = () => {
    for (const track of tracks) for (const type of trackEvents) track.removeEventListener(type, onChange);
    tracks = stream.getTracks();
    for (const track of tracks) for (const type of trackEvents) track.addEventListener(type, onChange);
  };
  const onTracksChanged = () => {
    watchTracks();
    onChange();
  };
  watchTracks();
  stream.addEventListener('addtrack', onTracksChanged);
  stream.addEventListener('removetrack', onTracksChanged);
  return () => {
    stream.removeEventListener('addtrack', onTracksChanged);
    stream.removeEventListener('removetrack', onTracksChanged);
    for (const track of tracks) for (const type of trackEvents) track.removeEventListener(type, onChange);
  };
}

/** The first character a reader would see (a whole emoji or accented letter), upper-cased. */
function initial(name: string): string {
  const first =
    typeof Intl.Segmenter === 'function'
      ? new Intl.Segmenter().segment(name)[Symbol.iterator]().next().value?.segment
      : [...name][0];
  return (first ?? '').toUpperCase();
}

const micOffIcon = html`<svg viewBox="0 0 24 24" aria-hidden="true">
  <rect x="9" y="3" width="6" height="11" rx="3" />
  <path d="M5 11a7 7 0 0 0 14 0M12 18v3M4 4l16 16" />
</svg>`;

const handIcon = html`<svg viewBox="0 0 24 24" aria-hidden="true">
  <path
    d="M8 13V6a1.5 1.5 0 0 1 3 0v5M11 11V4.5a1.5 1.5 0 0 1 3 0V11M14 11V6a1.5 1.5 0 0 1 3 0v7a7 7 0 0 1-7 7 6 6 0 0 1-5-2.7l-2.3-3.9a1.5 1.5 0 0 1 2.6-1.5L8 13"
  />
</svg>`;

declare global {
  interface HTMLElementTagNameMap {
    'meet-participant-tile': MeetParticipantTile;
  }
}
