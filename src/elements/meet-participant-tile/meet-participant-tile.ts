import { html, nothing, svg, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { Quality } from '../../client/quality.js';
import type { AiState, Participant } from '../../protocol/index.js';
import { themeStyles } from '../../styles/tokens.js';
import { avatarContent, avatarPictureStyles } from '../avatar-picture.js';
import { avatarStyles } from '../avatar.js';
import { MeetElement } from '../meet-element.js';
import { meetParticipantTileStyles } from './meet-participant-tile.styles.js';

/**
 * One participant's video (or their screen share) with their name, a
 * microphone-off indicator, a host badge and a raised hand. Until the video
 * has a frame to show (camera off, no track yet, or still loading), it shows
 * their picture, or the first letter of their name, so the tile is never blank.
 *
 * The video is always muted; a remote participant's sound plays from a
 * separate audio element, so it keeps playing while their video is hidden.
 * Your own tile (`local`) never plays your sound and mirrors your camera.
 * The AI agent's tile (a participant with role `agent`) says what it is
 * doing and shows what it says (`caption`).
 *
 * @tagname meet-participant-tile
 * @csspart video - The `<video>` element.
 * @csspart audio - The `<audio>` element (remote camera tiles only).
 * @csspart avatar - The initial shown while there is no video to show.
 * @csspart picture - Their picture, over the initial (which shows if it fails to load).
 * @csspart name - The name label.
 * @csspart muted-indicator - Shown while the microphone is off.
 * @csspart host-badge - Shown for hosts.
 * @csspart hand - Shown while the hand is raised.
 * @slot actions - Buttons over the tile's top corner (the grid puts its Pin button here).
 * @csspart speaking-indicator - Shown while they speak (with the ring around the tile).
 * @csspart quality-indicator - Signal bars and words while the connection is fair, poor or lost.
 * @csspart ai-state - The AI agent's state (listening, thinking, speaking…), on its tile only.
 * @csspart ai-caption - What the AI agent is saying (`caption`), on its tile only.
 *
 * @cssproperty --meet-tile-radius - Corner radius of a tile (falls back to `--meet-radius`).
 */
export class MeetParticipantTile extends MeetElement {
  static override styles = [themeStyles, avatarStyles, avatarPictureStyles, meetParticipantTileStyles];

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
  /** Reflects that a camera tile shows the initial: the camera is off, or its video has no frame yet. */
  @property({ type: Boolean, reflect: true, attribute: 'camera-off' }) cameraOff = false;
  /** Reflects a raised hand. Set from `participant`. */
  @property({ type: Boolean, reflect: true, attribute: 'hand-raised' }) handRaised = false;
  /** Reflects the participant being a host. Set from `participant`. */
  @property({ type: Boolean, reflect: true }) host = false;
  /**
   * They are speaking now (the grid sets it from what it hears): a ring
   * around the tile and a sound icon, so it is not told by colour alone.
   */
  @property({ type: Boolean, reflect: true }) speaking = false;
  /**
   * How well their media gets through (the grid sets it): `good`, `fair`,
   * `poor`, `lost`; all but good show bars and words.
   */
  @property({ reflect: true }) quality: Quality | undefined;
  /** This viewer pinned the tile (the grid sets it). */
  @property({ type: Boolean, reflect: true }) pinned = false;
  /** What the AI agent is saying, shown on its tile. */
  @property() caption = '';
  /** Reflects the AI agent's state (`connecting`, `listening`, `thinking`, `speaking`, `error`) on its tile. */
  @property({ reflect: true, attribute: 'ai-state' }) aiState: AiState | undefined;

  /** The video element has a frame of `#video` to show. */
  @state() private hasFrame = false;

  /**
   * The video track alone, and the audio tracks alone, each kept while its
   * tracks stay the same: setting `srcObject` (even to the same stream)
   * restarts loading and blanks the video until the next frame.
   */
  #video: TrackStream = noTracks;
  #audio: TrackStream = noTracks;
  /** The video has a frame and its track is flowing: show it instead of the initial. */
  #showsVideo = false;
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
    const video = this.renderRoot.querySelector('video');
    if (video && video.srcObject !== this.#video.stream) video.srcObject = this.#video.stream;
    const audio = this.renderRoot.querySelector<HTMLAudioElement & { sinkId?: string }>('audio');
    if (audio && audio.srcObject !== this.#audio.stream) audio.srcObject = this.#audio.stream;
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
    this.handRaised = camera && !!p?.handRaised;
    this.host = p?.role === 'host';
    this.aiState = p?.role === 'agent' ? (p.aiState ?? 'connecting') : undefined;
    // A camera turned off is let go of at once, whatever its track still does.
    const track = camera && !p?.camera ? undefined : liveVideoTrack(this.stream);
    const video = keepTracks(this.#video, track ? [track] : []);
    if (video !== this.#video) this.hasFrame = false;
    this.#video = video;
    const showsVideo = !!track && !track.muted && this.hasFrame;
    this.cameraOff = camera && !showsVideo;
    this.#showsVideo = showsVideo;
    const audio = this.local || this.screenShare ? [] : (this.stream?.getAudioTracks() ?? []);
    this.#audio = keepTracks(this.#audio, audio);
  }

  /** The first frame arrived (`loadeddata`), or the stream was let go of (`emptied`). */
  readonly #onVideoLoad = (event: Event) => {
    const video = event.target as HTMLVideoElement;
    this.hasFrame = video.srcObject !== null && video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA;
  };

  /** Re-renders when tracks come, go, end, or stop/start flowing. */
  #watch(): void {
    this.#unwatch?.();
    this.#unwatch = this.stream ? watchStream(this.stream, () => this.requestUpdate()) : undefined;
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
          class=${this.#showsVideo ? 'shown' : ''}
          autoplay
          playsinline
          muted
          @loadeddata=${this.#onVideoLoad}
          @emptied=${this.#onVideoLoad}
        ></video>
        ${this.local || this.screenShare ? nothing : html`<audio part="audio" autoplay></audio>`}
        ${this.#showsVideo
          ? nothing
          : html`<span part="avatar" class="avatar" aria-hidden="true"
              >${this.aiState ? sparkleIcon : avatarContent(name, this.participant?.picture, 'picture')}</span
            >`}
        ${this.aiState && this.caption ? html`<p part="ai-caption">${this.caption}</p>` : nothing}
        <div class="actions"><slot name="actions"></slot></div>
        ${this.handRaised
          ? html`<span part="hand" class="badge" role="img" aria-label="Hand raised">${handIcon}</span>`
          : nothing}
        <div class="caption">
          ${this.muted
            ? html`<span part="muted-indicator" class="badge" role="img" aria-label="Microphone off"
                >${micOffIcon}</span
              >`
            : nothing}
          ${this.speaking && camera
            ? html`<span part="speaking-indicator" class="badge" role="img" aria-label="Speaking"
                >${speakingIcon}</span
              >`
            : nothing}
          <span part="name">${this.#label}</span>
          ${this.quality && this.quality !== 'good' ? qualityIndicator(this.quality) : nothing}
          ${this.host && camera ? html`<span part="host-badge">Host</span>` : nothing}
          ${this.aiState ? html`<span part="ai-state">${aiStateText[this.aiState]}</span>` : nothing}
        </div>
      </div>
    `;
  }
}

const qualityText: Record<Exclude<Quality, 'good'>, string> = {
  fair: 'Fair connection',
  poor: 'Poor connection',
  lost: 'Connection lost',
};

/** Three signal bars, as many filled as the connection deserves, crossed out when lost. */
function qualityIndicator(quality: Exclude<Quality, 'good'>) {
  const filled = { fair: 2, poor: 1, lost: 0 }[quality];
  const bars = [
    { x: 4, y: 15, height: 5 },
    { x: 10, y: 10, height: 10 },
    { x: 16, y: 5, height: 15 },
  ];
  return html`<span
    part="quality-indicator"
    class="badge"
    role="img"
    aria-label=${qualityText[quality]}
    title=${qualityText[quality]}
    ><svg viewBox="0 0 24 24" aria-hidden="true">
      ${bars.map(
        (bar, i) =>
          svg`<rect x=${bar.x} y=${bar.y} width="4" height=${bar.height} rx="1" class=${i < filled ? 'on' : 'off'} />`,
      )}
      ${quality === 'lost' ? svg`<path d="M3 3l18 18" />` : nothing}
    </svg></span
  >`;
}

const aiStateText: Record<AiState, string> = {
  connecting: 'Joining…',
  listening: 'Listening',
  thinking: 'Thinking…',
  speaking: 'Speaking',
  error: 'Unavailable',
};

/** Some tracks of a stream, in a stream of their own, with their ids as the key. */
interface TrackStream {
  key: string;
  stream: MediaStream | null;
}
const noTracks: TrackStream = { key: '', stream: null };

/** `current` while it holds the same tracks, so its stream (and playback) stays the same. */
function keepTracks(current: TrackStream, tracks: readonly MediaStreamTrack[]): TrackStream {
  const key = tracks.map((track) => track.id).join(' ');
  if (key === current.key) return current;
  return { key, stream: tracks.length > 0 ? new MediaStream([...tracks]) : null };
}

function liveVideoTrack(stream: MediaStream | null): MediaStreamTrack | undefined {
  return stream?.getVideoTracks().find((track) => track.readyState === 'live');
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

const micOffIcon = html`<svg viewBox="0 0 24 24" aria-hidden="true">
  <rect x="9" y="3" width="6" height="11" rx="3" />
  <path d="M5 11a7 7 0 0 0 14 0M12 18v3M4 4l16 16" />
</svg>`;

const speakingIcon = html`<svg viewBox="0 0 24 24" aria-hidden="true">
  <path d="M4 10v4M8 7v10M12 4v16M16 7v10M20 10v4" />
</svg>`;

/** The AI agent's avatar: it has no initial of its own to show. */
const sparkleIcon = html`<svg viewBox="0 0 24 24" aria-hidden="true" class="sparkle">
  <path d="M12 3l2.2 6.8L21 12l-6.8 2.2L12 21l-2.2-6.8L3 12l6.8-2.2z" />
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
