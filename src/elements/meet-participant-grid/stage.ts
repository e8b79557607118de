/**
 * Which tiles the grid shows when not all of them fit at a useful size: the
 * stage. Pure (DOM-free), so its rules are tested as tables.
 *
 * What gets a place, in this order: the pinned tile, screen shares, you,
 * the most recent speakers, then by arrival. Shown, they keep a stable
 * order (pinned, you, screens, then by arrival, as the grid always had it),
 * so a tile moves only when who is on stage changes, never because someone
 * spoke who is on it already.
 */
import { gridLayout, DEFAULT_GAP, type GridLayoutOptions } from './layout.js';
import type { OrderedTile } from './layout.js';

/** The smallest tile worth showing, in px of width (a face and a name stay readable). */
export const MIN_TILE_WIDTH = 160;

/**
 * How many tiles fit in the space with each at least `minTileWidth` wide
 * (at least one, and never more than `cap` when it is above 0).
 */
export function stageCapacity(
  { width, height, gap = DEFAULT_GAP, aspectRatio }: Omit<GridLayoutOptions, 'count'>,
  { minTileWidth = MIN_TILE_WIDTH, cap = 0, upTo = 100 } = {},
): number {
  // Attributes a page got wrong (NaN, negative) fall back to the defaults: no cap, the usual minimum.
  const wholeCap = Number.isFinite(cap) && cap >= 1 ? Math.floor(cap) : 0;
  const minimum = Number.isFinite(minTileWidth) && minTileWidth > 0 ? minTileWidth : MIN_TILE_WIDTH;
  const limit = wholeCap > 0 ? Math.min(wholeCap, upTo) : upTo;
  let fits = 1;
  for (let count = 2; count <= limit; count++) {
    const layout = gridLayout({ width, height, gap, count, ...(aspectRatio ? { aspectRatio } : {}) });
    if (layout.tileWidth < minimum) break;
    fits = count;
  }
  return fits;
}

export interface StageTile extends OrderedTile {
  key: string;
}

export interface StageOptions {
  /** How many places there are (the "+N" tile takes one of them when some do not fit). */
  capacity: number;
  /** The participant whose camera tile is pinned by this viewer. */
  pinned?: string | null;
  /** When each participant last spoke (ms); the more recent, the sooner on stage. */
  lastSpoke?: ReadonlyMap<string, number>;
}

export interface Stage<T> {
  /** On stage, in display order. */
  shown: T[];
  /** Off stage (one step away, behind the "+N" tile). */
  hidden: T[];
}

export function chooseStage<T extends StageTile>(
  tiles: readonly T[],
  { capacity, pinned = null, lastSpoke = new Map() }: StageOptions,
): Stage<T> {
  const isPinned = (tile: T) => !tile.screenShare && tile.participant.id === pinned;
  const group = (tile: T) => (isPinned(tile) ? 0 : tile.screenShare ? 1 : tile.local ? 2 : 3);
  const byArrival = (a: T, b: T) =>
    a.participant.joinedAt - b.participant.joinedAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  const spoke = (tile: T) => lastSpoke.get(tile.participant.id) ?? -Infinity;
  const byPriority = [...tiles].sort(
    (a, b) => group(a) - group(b) || (group(a) === 3 ? spoke(b) - spoke(a) : 0) || byArrival(a, b),
  );
  const places = Math.max(1, Math.floor(capacity));
  // All fit: no "+N" tile. Otherwise it takes the last place.
  const room = byPriority.length <= places ? places : places - 1;
  const chosen = new Set(byPriority.slice(0, Math.max(room, 1)));
  const shownGroup = (tile: T) =>
    isPinned(tile) ? 0 : tile.local && !tile.screenShare ? 1 : tile.screenShare ? 2 : 3;
  const shown = [...chosen].sort((a, b) => shownGroup(a) - shownGroup(b) || byArrival(a, b));
  return { shown, hidden: byPriority.filter((tile) => !chosen.has(tile)) };
}
