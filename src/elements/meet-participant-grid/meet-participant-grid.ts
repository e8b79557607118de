import { consume } from '@lit/context';
import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { guard } from 'lit/directives/guard.js';
import { repeat } from 'lit/directives/repeat.js';
import { styleMap } from 'lit/directives/style-map.js';
import type { MeetingAi } from '../../client/ai-control.js';
import type { LocalMedia, RemoteMedia } from '../../client/call-types.js';
import type { Meeting } from '../../client/meeting.js';
import type { Quality } from '../../client/quality.js';
import type { RoomState } from '../../client/room-state.js';
import type { Participant } from '../../protocol/index.js';
import { themeStyles } from '../../styles/tokens.js';
import type { Devices } from '../../client/devices.js';
import { devicesContext } from '../devices-context.js';
import { MeetParticipantTile } from '../meet-participant-tile/meet-participant-tile.js';
import { MeetElement } from '../meet-element.js';
import { ObserveController } from '../observe-controller.js';
import { meetingContext } from '../meeting-context.js';
import { dispatchMeetEvent } from '../../events/meet-events.js';
import { gridRects, orderTiles, spotlightLayout, stableOrder, type Rect } from './layout.js';
import { chooseStage, MIN_TILE_WIDTH, stageCapacity } from './stage.js';
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
 * the space and the others line up beside (or below) it; a tile you pin
 * takes that place first.
 *
 * When not everyone fits at a useful size (tiles at least `min-tile-width`
 * wide, at most `max-tiles`), the stage shows the pinned tile, screen
 * shares, you, the most recent speakers, then by arrival, and a "+N" tile
 * for the rest (it fires `meet-show-participants`). Video of tiles off stage
 * is not received; everyone's sound keeps playing.
 *
 * Renders the meeting that `<meet-room>` provides (`meetingContext`). Give it a
 * size: the tiles fill its content box (it is at least 240px tall).
 *
 * @tagname meet-participant-grid
 *
 * @event meet-show-participants - The "+N" tile was pressed: `detail.participants` are the people off stage.
 *
 * @cssproperty --meet-tile-radius - Corner radius of the "+N" tile, like the tiles' (falls back to `--meet-radius`).
 *
 * @csspart tile - Each `<meet-participant-tile>`.
 * @csspart pin - The Pin button on each camera tile (`aria-pressed` while pinned).
 * @csspart more - The "+N" tile for the people off stage.
 * @csspart spotlight - The tile shown large: the first screen share.
 * @csspart tile-video - Each tile's `video` part (see `<meet-participant-tile>`).
 * @csspart tile-audio - Each tile's `audio` part.
 * @csspart tile-avatar - Each tile's `avatar` part.
 * @csspart tile-picture - Each tile's `picture` part.
 * @csspart tile-name - Each tile's `name` part.
 * @csspart tile-muted-indicator - Each tile's `muted-indicator` part.
 * @csspart tile-host-badge - Each tile's `host-badge` part.
 * @csspart tile-hand - Each tile's `hand` part.
 * @csspart tile-speaking-indicator - Each tile's `speaking-indicator` part.
 * @csspart tile-quality-indicator - Each tile's `quality-indicator` part.
 * @csspart tile-ai-state - The AI agent's tile's `ai-state` part.
 * @csspart tile-ai-caption - The AI agent's tile's `ai-caption` part.
 */
export class MeetParticipantGrid extends MeetElement {
  static override styles = [themeStyles, meetParticipantGridStyles];
  static override dependencies = { 'meet-participant-tile': MeetParticipantTile };

  /** Space between tiles, in px. */
  @property({ type: Number }) gap = 8;
  /** The most tiles shown at once ("+N" included); 0: as many as fit. */
  @property({ type: Number, attribute: 'max-tiles' }) maxTiles = 0;
  /** Tiles are never narrower than this (px): fewer are shown instead. */
  @property({ type: Number, attribute: 'min-tile-width' }) minTileWidth = MIN_TILE_WIDTH;

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
  readonly #speaking = new ObserveController<readonly string[]>(this, (ids) => {
    const now = Date.now();
    for (const id of ids) this.#lastSpoke.set(id, now);
  });
  readonly #pinned = new ObserveController<string | null>(this);
  readonly #quality = new ObserveController<ReadonlyMap<string, Quality>>(this);
  /** When each participant last started speaking, for the stage. */
  readonly #lastSpoke = new Map<string, number>();
  /** The people off stage, for the "+N" tile. */
  #offStage: GridTile[] = [];
  /** What the meeting was last asked to receive. */
  #videoShown = '';
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

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('devices')) this.#speaker.observe(this.devices?.selected$('audiooutput'));
    if (changed.has('meeting')) {
      this.#room.observe(this.meeting?.state$);
      this.#local.observe(this.meeting?.local$);
      this.#remote.observe(this.meeting?.remote$);
      this.#ai.observe(this.meeting?.ai$);
      this.#speaking.observe(this.meeting?.speaking$);
      this.#pinned.observe(this.meeting?.pinned$);
      this.#quality.observe(this.meeting?.quality$);
      this.#videoShown = '';
    }
    const all = this.#tiles;
    const { width, height } = this.size;
    const capacity = stageCapacity(
      { width, height, gap: this.gap },
      { minTileWidth: this.minTileWidth, cap: this.maxTiles },
    );
    const stage = chooseStage(all, {
      capacity,
      pinned: this.#pinned.value ?? null,
      lastSpoke: this.#lastSpoke,
    });
    this.#tilesShown = stage.shown;
    this.#offStage = stage.hidden;
    // Off-stage tiles stay in the DOM, hidden: their sound plays on.
    this.#domOrder = stableOrder(
      this.#domOrder,
      all.map((tile) => tile.key),
    );
    if (width > 0) this.#receiveOnly(stage.shown, this.#layout(stage.shown, stage.hidden.length > 0));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resizeObserver.disconnect();
    // Nothing shown here any more: receive every video again, for whatever shows them next.
    this.meeting?.showVideo(null);
    this.#videoShown = '';
  }

  /**
   * Tells the meeting to receive the video of these tiles only (once the
   * space is measured), each at the size it is shown: a small tile gets a
   * small simulcast layer.
   */
  #receiveOnly(shown: readonly GridTile[], rects: ReadonlyMap<string, Rect>): void {
    const videos = new Map(
      shown
        .filter((tile) => !tile.local)
        .map((tile) => {
          const { width = 0, height = 0 } = rects.get(tile.key) ?? {};
          return [tile.key, { width, height }] as const;
        }),
    );
    const id = [...videos]
      .map(([key, { width, height }]) => `${key} ${width}×${height}`)
      .sort()
      .join('|');
    if (id === this.#videoShown) return;
    this.#videoShown = id;
    this.meeting?.showVideo(videos);
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
      // An announced screen has its tile before it arrives: it is pulled once it is on stage.
      const sharing = self ? !!screen : !!participant.tracks.screen || !!screen;
      const tile = { participant, local: self };
      tiles.push({ ...tile, key: `${participant.id} camera`, stream: camera, screenShare: false });
      if (sharing)
        tiles.push({ ...tile, key: `${participant.id} screen`, stream: screen, screenShare: true });
    }
    return orderTiles(tiles);
  }

  /** The tile shown large: the pinned one, else the first screen share. */
  #spotlit(tiles: GridTile[]): GridTile | undefined {
    const pinned = this.#pinned.value;
    return (
      tiles.find((tile) => !tile.screenShare && tile.participant.id === pinned) ??
      tiles.find((t) => t.screenShare)
    );
  }

  /** Where each tile goes (the "+N" tile, `more`, last): the spotlit one large, when there is one. */
  #layout(tiles: GridTile[], more: boolean): Map<string, Rect> {
    const { width, height } = this.size;
    const options = { width, height, gap: this.gap };
    const keys = [...tiles.map((tile) => tile.key), ...(more ? [MORE] : [])];
    const spotlit = this.#spotlit(tiles);
    if (!spotlit) {
      const rects = gridRects({ ...options, count: keys.length });
      return new Map(keys.map((key, i) => [key, rects[i]!]));
    }
    const others = keys.filter((key) => key !== spotlit.key);
    const { spotlight, others: rects } = spotlightLayout({ ...options, count: others.length });
    return new Map([[spotlit.key, spotlight], ...others.map((key, i) => [key, rects[i]!] as const)]);
  }

  #showOffStage(): void {
    dispatchMeetEvent(this, 'meet-show-participants', {
      participants: [...new Set(this.#offStage.map((tile) => tile.participant))],
    });
  }

  protected override render() {
    const tiles = this.#tilesShown;
    const more = new Set(this.#offStage.map((tile) => tile.participant.id)).size;
    const rects = this.#layout(tiles, more > 0);
    const spotlit = this.#spotlit(tiles);
    const all = [...tiles, ...this.#offStage];
    const position = new Map(all.map((tile, i) => [tile.key, { tile, i, shown: i < tiles.length }]));
    const count = tiles.length + (more > 0 ? 1 : 0);
    const pinned = this.#pinned.value ?? null;
    // Placed by the layout, in a DOM order that never moves a tile; the list position tells the layout order.
    return html`<div class="tiles" role="list" aria-label="Participants">
      ${repeat(
        this.#domOrder,
        (key) => key,
        (key) => {
          const { tile, i, shown } = position.get(key)!;
          const rect = rects.get(key);
          const isPinned = !tile.screenShare && tile.participant.id === pinned;
          return html`<meet-participant-tile
            role="listitem"
            ?hidden=${!shown}
            aria-posinset=${shown ? i + 1 : nothing}
            aria-setsize=${shown ? count : nothing}
            ?pinned=${isPinned}
            part=${tile === spotlit ? 'tile spotlight' : 'tile'}
            exportparts=${tileParts}
            .participant=${tile.participant}
            .stream=${tile.stream}
            ?local=${tile.local}
            ?screen-share=${tile.screenShare}
            ?speaking=${!tile.screenShare && !!this.#speaking.value?.includes(tile.participant.id)}
            .quality=${tile.screenShare ? undefined : this.#quality.value?.get(tile.participant.id)}
            sink-id=${this.#speaker.value ?? ''}
            caption=${tile.participant.role === 'agent' ? (this.#ai.value?.caption?.text ?? '') : ''}
            style=${placed(rect)}
            >${tile.screenShare
              ? nothing
              : html`<button
                  slot="actions"
                  part="pin"
                  type="button"
                  aria-pressed=${isPinned ? 'true' : 'false'}
                  aria-label=${`Pin ${tile.local ? 'yourself' : tile.participant.name}`}
                  title=${isPinned ? 'Unpin' : 'Pin'}
                  @click=${() => (isPinned ? this.meeting?.unpin() : this.meeting?.pin(tile.participant.id))}
                >
                  ${pinIcon}
                </button>`}</meet-participant-tile
          >`;
        },
      )}
      ${more > 0 ? this.#renderMore(more, count, rects.get(MORE)) : nothing}
    </div>`;
  }

  #renderMore(more: number, count: number, rect: Rect | undefined) {
    return html`<div
      class="more"
      role="listitem"
      aria-posinset=${count}
      aria-setsize=${count}
      style=${styleMap({
        left: `${rect?.x ?? 0}px`,
        top: `${rect?.y ?? 0}px`,
        width: `${rect?.width ?? 0}px`,
        height: `${rect?.height ?? 0}px`,
      })}
    >
      <button
        type="button"
        part="more"
        aria-label=${`${more} more ${more === 1 ? 'person' : 'people'}: show everyone`}
        @click=${() => this.#showOffStage()}
      >
        +${more}
      </button>
    </div>`;
  }
}

/**
 * A tile's place: its style is set again only when the place changes, so a
 * render for one changed tile does not write 4 × N style properties.
 */
const placed = (rect: Rect | undefined) => {
  const [x, y, width, height] = [rect?.x ?? 0, rect?.y ?? 0, rect?.width ?? 0, rect?.height ?? 0];
  return guard([x, y, width, height], () =>
    styleMap({ left: `${x}px`, top: `${y}px`, width: `${width}px`, height: `${height}px` }),
  );
};

/** The layout key of the "+N" tile. */
const MORE = 'more';

const pinIcon = html`<svg viewBox="0 0 24 24" aria-hidden="true">
  <path d="M9 4h6l-1 6 3 3H7l3-3zM12 13v7" />
</svg>`;

/** A tile's parts, for styling from outside the grid. */
const tileParts = [
  'video',
  'audio',
  'avatar',
  'picture',
  'name',
  'muted-indicator',
  'host-badge',
  'hand',
  'speaking-indicator',
  'quality-indicator',
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
