/**
 * Where tiles go, as pure functions of the space, the number of tiles and
 * their aspect ratio (DOM-free, so they are tested as tables).
 */
import type { Participant } from '../../protocol/index.js';

export interface GridLayoutOptions {
  /** Available width in px. */
  width: number;
  /** Available height in px. */
  height: number;
  count: number;
  /** Tile width / height. */
  aspectRatio?: number;
  /** Space between tiles in px. */
  gap?: number;
}

export interface GridLayout {
  columns: number;
  rows: number;
  /** Whole px; tiles keep `aspectRatio`. */
  tileWidth: number;
  tileHeight: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_ASPECT_RATIO = 16 / 9;
export const DEFAULT_GAP = 8;

/** Width and height are px ≥ 0, a count is a whole number ≥ 0, whatever the caller measured. */
const nonNegative = (value: number) => (Number.isFinite(value) && value > 0 ? value : 0);

/**
 * The column count that gives `count` tiles of `aspectRatio` the largest area
 * in `width` × `height` with `gap` between them. On a tie, fewer columns.
 */
export function gridLayout({
  width,
  height,
  count,
  aspectRatio = DEFAULT_ASPECT_RATIO,
  gap = DEFAULT_GAP,
}: GridLayoutOptions): GridLayout {
  const tiles = Math.floor(nonNegative(count));
  if (tiles === 0) return { columns: 0, rows: 0, tileWidth: 0, tileHeight: 0 };
  const ratio = nonNegative(aspectRatio) || DEFAULT_ASPECT_RATIO;
  const space = nonNegative(gap);
  let best: GridLayout | null = null;
  for (let columns = 1; columns <= tiles; columns++) {
    const rows = Math.ceil(tiles / columns);
    const cellWidth = nonNegative((nonNegative(width) - space * (columns - 1)) / columns);
    const cellHeight = nonNegative((nonNegative(height) - space * (rows - 1)) / rows);
    const tileWidth = Math.floor(Math.min(cellWidth, cellHeight * ratio));
    const tileHeight = Math.floor(tileWidth / ratio);
    if (!best || tileWidth * tileHeight > best.tileWidth * best.tileHeight)
      best = { columns, rows, tileWidth, tileHeight };
  }
  return best!;
}

/**
 * `gridLayout` as one rectangle per tile, in reading order: the grid is
 * centred in the area and a last, shorter row is centred under the others.
 */
export function gridRects(options: GridLayoutOptions): Rect[] {
  const { columns, rows, tileWidth, tileHeight } = gridLayout(options);
  const tiles = columns === 0 ? 0 : Math.floor(options.count);
  const gap = nonNegative(options.gap ?? DEFAULT_GAP);
  const rowWidth = (n: number) => n * tileWidth + (n - 1) * gap;
  const top = Math.floor(
    Math.max(0, nonNegative(options.height) - (rows * tileHeight + (rows - 1) * gap)) / 2,
  );
  const rects: Rect[] = [];
  for (let i = 0; i < tiles; i++) {
    const row = Math.floor(i / columns);
    const inRow = Math.min(columns, tiles - row * columns);
    const left = Math.floor(Math.max(0, nonNegative(options.width) - rowWidth(inRow)) / 2);
    rects.push({
      x: left + (i % columns) * (tileWidth + gap),
      y: top + row * (tileHeight + gap),
      width: tileWidth,
      height: tileHeight,
    });
  }
  return rects;
}

export interface SpotlightLayoutOptions extends GridLayoutOptions {
  /** Share of the longer side the spotlight takes when there are other tiles. */
  spotlightShare?: number;
}

export interface SpotlightLayout {
  /** The whole spotlight area: a screen share is shown whole inside it. */
  spotlight: Rect;
  /** The `count` other tiles, in a strip beside (landscape) or below (portrait) it. */
  others: Rect[];
}

/**
 * One large spot (a screen share) and a strip of `count` other tiles:
 * beside it when the area is wider than tall, below it otherwise.
 */
export function spotlightLayout({
  spotlightShare = 0.75,
  ...options
}: SpotlightLayoutOptions): SpotlightLayout {
  const width = Math.floor(nonNegative(options.width));
  const height = Math.floor(nonNegative(options.height));
  const gap = nonNegative(options.gap ?? DEFAULT_GAP);
  const count = Math.floor(nonNegative(options.count));
  if (count === 0) return { spotlight: { x: 0, y: 0, width, height }, others: [] };

  const share = Math.min(1, nonNegative(spotlightShare));
  const landscape = width >= height;
  const long = landscape ? width : height;
  const spot = Math.floor(nonNegative(long - gap) * share);
  const rest = Math.max(0, long - spot - gap);
  const spotlight = landscape ? { x: 0, y: 0, width: spot, height } : { x: 0, y: 0, width, height: spot };
  const offset = spot + gap;
  const strip = gridRects({
    ...options,
    count,
    width: landscape ? rest : width,
    height: landscape ? height : rest,
  });
  const others = strip.map((r) => (landscape ? { ...r, x: r.x + offset } : { ...r, y: r.y + offset }));
  return { spotlight, others };
}

/** What `orderTiles` needs to know about a tile. */
export interface OrderedTile {
  participant: Pick<Participant, 'id' | 'joinedAt'>;
  /** Your own tile. */
  local: boolean;
  screenShare: boolean;
}

/**
 * A stable order: your camera first, then screen shares, then everyone else;
 * within each, by when they joined, then by id.
 */
export function orderTiles<T extends OrderedTile>(tiles: readonly T[]): T[] {
  const group = (tile: T) => (tile.screenShare ? 1 : tile.local ? 0 : 2);
  return [...tiles].sort(
    (a, b) =>
      group(a) - group(b) ||
      a.participant.joinedAt - b.participant.joinedAt ||
      (a.participant.id < b.participant.id ? -1 : a.participant.id > b.participant.id ? 1 : 0),
  );
}

/**
 * `previous` without the keys that are gone, then the new ones in `current`'s
 * order: an order in which a key that stays never moves. The grid keeps its
 * tiles in the DOM this way (moving an element restarts what it plays) and
 * places them by the layout order alone.
 */
export function stableOrder(previous: readonly string[], current: readonly string[]): string[] {
  const now = new Set(current);
  const kept = previous.filter((key) => now.has(key));
  const known = new Set(kept);
  return [...kept, ...current.filter((key) => !known.has(key))];
}
