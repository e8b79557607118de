import { consume } from '@lit/context';
import { html, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { styleMap } from 'lit/directives/style-map.js';
import type { MeetingAi } from '../../client/ai-control.js';
import type { LocalMedia, RemoteMedia } from '../../client/call-types.js';
import type { Meeting } from '../../client/meeting.js';
import type { RoomState } from '../../client/room-state.js';
import type { Participant } from '../../protocol/index.js';
import { themeStyles } from '../../styles/tokens.js';
import type { Devices } from '../../client/devices.js';
import { devicesContext } from '../devices-context.js';
import { MeetParticipantTile } from '../meet-participant-tile/meet-participant-tile.js';
import { MeetElement } from '../meet-element.js';
import { ObserveController } from '../observe-controller.js';
import { meetingContext } from '../meeting-context.js';
import { gridRects, orderTiles, spotlightLayout, stableOrder, type Rect } from './layout.js';
import { meetParticipantGridStyles } from './meet-participant-grid.styles.js';

/** One tile: a participant's camera, or their screen share. */
interface GridTile {
  key: string;
  participant: Participant;
  stream: MediaStream | null;
  local: boolean;
  screenShare: boolean;
}

/**
 * Everyone in the meeting as `<meet-participant-tile>`s, as large as the
 * space allows. While someone shares their screen, the share takes most of
 * the space and the others line up beside (or below) it.
 *
 * Renders the meeting that `<meet-room>` provides (`meetingContext`). Give it a
 * size: the tiles fill its content box (it is at least 240px tall).
 *
 * @tagname meet-participant-grid
 *
 * @csspart tile - Each `<meet-participant-tile>`.
 * @csspart spotlight - The tile shown large: the first screen share.
 * @csspart tile-video - Each tile's `video` part (see `<meet-participant-tile>`).
 * @csspart tile-audio - Each tile's `audio` part.
 * @csspart tile-avatar - Each tile's `avatar` part.
 * @csspart tile-name - Each tile's `name` part.
 * @csspart tile-muted-indicator - Each tile's `muted-indicator` part.
 * @csspart tile-host-badge - Each tile's `host-badge` part.
 * @csspart tile-hand - Each tile's `hand` part.
 * @csspart tile-speaking-indicator - Each tile's `speaking-indicator` part.
 * @csspart tile-ai-state - The AI agent's tile's `ai-state` part.
 * @csspart tile-ai-caption - The AI agent's tile's `ai-caption` part.
 */
export class MeetParticipantGrid extends MeetElement {
  static override styles = [themeStyles, meetParticipantGridStyles];
  static override dependencies = { 'meet-participant-tile': MeetParticipantTile };

  /** Space between tiles, in px. */
  @property({ type: Number }) gap = 8;

  @consume({ context: meetingContext, subscribe: true })
  @state()
  private meeting: Meeting | undefined;

  @consume({ context: devicesContext, subscribe: true })
  @state()
  private devices: Devices | undefined;

  @state() private size = { width: 0, height: 0 };
  /** The speaker chosen in the device picker, for every tile's sound. */
  readonly #speaker = new ObserveController<string | null>(this);

  readonly #room = new ObserveController<RoomState>(this);
  readonly #local = new ObserveController<LocalMedia>(this);
  readonly #remote = new ObserveController<ReadonlyMap<string, RemoteMedia>>(this);
  readonly #speaking = new ObserveController<readonly string[]>(this);
  /** For the AI agent's tile: what it is saying. */
  readonly #ai = new ObserveController<MeetingAi>(this);
  /** The tiles in layout order. */
  #tilesShown: GridTile[] = [];
  /** Their keys in DOM order, which never changes for a tile that stays (see `stableOrder`). */
  #domOrder: string[] = [];
  readonly #resizeObserver = new ResizeObserver(([entry]) => {
    const box = entry?.contentBoxSize[0];
    if (box) this.size = { width: Math.floor(box.inlineSize), height: Math.floor(box.blockSize) };
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.#resizeObserver.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resizeObserver.disconnect();
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('devices')) this.#speaker.observe(this.devices?.selected$('audiooutput'));
    if (changed.has('meeting')) {
      this.#room.observe(this.meeting?.state$);
      this.#local.observe(this.meeting?.local$);
      this.#remote.observe(this.meeting?.remote$);
      this.#ai.observe(this.meeting?.ai$);
      this.#speaking.observe(this.meeting?.speaking$);
    }
    this.#tilesShown = this.#tiles;
    this.#domOrder = stableOrder(
      this.#domOrder,
      this.#tilesShown.map((tile) => tile.key),
    );
  }

  get #tiles(): GridTile[] {
    const room = this.#room.value;
    const local = this.#local.value;
    const remote = this.#remote.value;
    const tiles: GridTile[] = [];
    for (const participant of room?.participants ?? []) {
      const self = participant.id === room?.selfId;
      const media = self ? undefined : remote?.get(participant.id);
      const camera = self ? (local?.cameraStream ?? null) : (media?.stream ?? null);
      const screen = self ? (local?.screen ? local.screenStream : null) : (media?.screen ?? null);
      const tile = { participant, local: self };
      tiles.push({ ...tile, key: `${participant.id} camera`, stream: camera, screenShare: false });
      if (screen) tiles.push({ ...tile, key: `${participant.id} screen`, stream: screen, screenShare: true });
    }
    return orderTiles(tiles);
  }

  /** Where each tile goes: the first screen share large, when there is one. */
  #layout(tiles: GridTile[]): Map<string, Rect> {
    const { width, height } = this.size;
    const options = { width, height, gap: this.gap };
    const spotlit = tiles.find((tile) => tile.screenShare);
    if (!spotlit) {
      const rects = gridRects({ ...options, count: tiles.length });
      return new Map(tiles.map((tile, i) => [tile.key, rects[i]!]));
    }
    const others = tiles.filter((tile) => tile !== spotlit);
    const { spotlight, others: rects } = spotlightLayout({ ...options, count: others.length });
    return new Map([[spotlit.key, spotlight], ...others.map((tile, i) => [tile.key, rects[i]!] as const)]);
  }

  protected override render() {
    const tiles = this.#tilesShown;
    const rects = this.#layout(tiles);
    const spotlit = tiles.find((tile) => tile.screenShare);
    const position = new Map(tiles.map((tile, i) => [tile.key, { tile, i }]));
    // Placed by the layout, in a DOM order that never moves a tile; the list position tells the layout order.
    return html`<div class="tiles" role="list" aria-label="Participants">
      ${repeat(
        this.#domOrder,
        (key) => key,
        (key) => {
          const { tile, i } = position.get(key)!;
          const rect = rects.get(key);
          return html`<meet-participant-tile
            role="listitem"
            aria-posinset=${i + 1}
            aria-setsize=${tiles.length}
            part=${tile === spotlit ? 'tile spotlight' : 'tile'}
            exportparts=${tileParts}
            .participant=${tile.participant}
            .stream=${tile.stream}
            ?local=${tile.local}
            ?screen-share=${tile.screenShare}
            ?speaking=${!tile.screenShare && !!this.#speaking.value?.includes(tile.participant.id)}
            sink-id=${this.#speaker.value ?? ''}
            caption=${tile.participant.role === 'agent' ? (this.#ai.value?.caption?.text ?? '') : ''}
            style=${styleMap({
              left: `${rect?.x ?? 0}px`,
              top: `${rect?.y ?? 0}px`,
              width: `${rect?.width ?? 0}px`,
              height: `${rect?.height ?? 0}px`,
            })}
          ></meet-participant-tile>`;
        },
      )}
    </div>`;
  }
}

/** A tile's parts, for styling from outside the grid. */
const tileParts = [
  'video',
  'audio',
  'avatar',
  'name',
  'muted-indicator',
  'host-badge',
  'hand',
  'speaking-indicator',
  'ai-state',
  'ai-caption',
]
  .map((part) => `${part}: tile-${part}`)
  .join(', ');

declare global {
  interface HTMLElementTagNameMap {
    'meet-participant-grid': MeetParticipantGrid;
  }
}
