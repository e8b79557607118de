/**
 * For tests: what participant tiles show the user, frame by frame. A tile
 * should always show its avatar or a video with a decoded frame, never
 * nothing (a blank tile).
 */
import type { MeetParticipantTile } from './meet-participant-tile.js';

export type Shown = 'video' | 'avatar' | 'nothing';

const visible = (element: Element | null | undefined): boolean =>
  !!element?.checkVisibility({ opacityProperty: true, visibilityProperty: true });

/** What `tile` shows now. */
export function shownBy(tile: MeetParticipantTile): Shown {
  const root = tile.shadowRoot!;
  const video = root.querySelector('video');
  const hasFrame = !!video && video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.videoWidth > 0;
  if (hasFrame && visible(video)) return 'video';
  if (visible(root.querySelector('[part~="avatar"]'))) return 'avatar';
  return 'nothing';
}

const labelOf = (tile: MeetParticipantTile) =>
  tile.shadowRoot!.querySelector('[role="group"]')?.getAttribute('aria-label') ?? '';

export interface TileFrames {
  /** Stops sampling; what each tile showed, by its label, without repeats (`['avatar', 'video']`). */
  stop(): Map<string, Shown[]>;
}

/** Samples what each of `tiles()` shows in every animation frame until `stop()`. */
export function recordTileFrames(tiles: () => MeetParticipantTile[]): TileFrames {
  const shown = new Map<string, Shown[]>();
  let request = 0;
  const sample = () => {
    for (const tile of tiles()) {
      const label = labelOf(tile);
      const seen = shown.get(label) ?? [];
      const now = shownBy(tile);
      if (seen.at(-1) !== now) shown.set(label, [...seen, now]);
    }
  };
  const everyFrame = () => {
    sample();
    request = requestAnimationFrame(everyFrame);
  };
  everyFrame();
  return {
    stop() {
      cancelAnimationFrame(request);
      // What the test waited for may have come after the last frame.
      sample();
      return shown;
    },
  };
}

/** Resolves after `count` more animation frames: time for a queued media task to show up on screen. */
export async function animationFrames(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => requestAnimationFrame(resolve));
}

/** How long to wait for a first decoded frame: seconds while the other suite's browsers and Workers run beside us. */
export const FIRST_FRAME = { timeout: 5_000 };
