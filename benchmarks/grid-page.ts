/**
 * The page of the grid benchmark (`grid-render.ts` bundles it and loads it
 * in Chromium): a `<meet-participant-grid>` fed a meeting of its own, no
 * server, with `participants` people, cameras off. `gridBench.run()` makes
 * one change at a time (a microphone off or on, speaking on or off, each for
 * one person other than you), as the room client applies it (a
 * `participant-updated` delta through `room-state.ts`, or a new `speaking$`
 * list), or, for the baseline, the same change with every participant
 * replaced by a new object (a client that rebuilds the room on each change).
 * For each change it measures the time from the change to the end of the
 * Lit update cycle it causes (the grid's and every tile's `updateComplete`):
 * nothing but script runs in between, style and layout come at the next
 * frame, which it waits for before the next change. It counts the tiles
 * whose `updated()` ran.
 */
import { ContextProvider } from '@lit/context';
import { BehaviorSubject, of } from 'rxjs';
import type { MeetingAi } from '../src/client/ai-control.js';
import type { LocalMedia, RemoteMedia } from '../src/client/call-types.js';
import type { Meeting } from '../src/client/meeting.js';
import { applyServerMessage, emptyRoomState, type RoomState } from '../src/client/room-state.js';
import { defineElement } from '../src/define.js';
import { MeetParticipantGrid } from '../src/elements/meet-participant-grid/meet-participant-grid.js';
import { MeetParticipantTile } from '../src/elements/meet-participant-tile/meet-participant-tile.js';
import { meetingContext } from '../src/elements/meeting-context.js';
import type { Participant } from '../src/protocol/index.js';

export type GridChange = 'microphone-off' | 'microphone-on' | 'speaking-on' | 'speaking-off';
export const GRID_CHANGES: readonly GridChange[] = [
  'microphone-off',
  'microphone-on',
  'speaking-on',
  'speaking-off',
];
export type GridMode = 'delta' | 'baseline';

export interface GridUpdate {
  change: GridChange;
  /** Whose tile the change was for. */
  participant: string;
  /** From the change to the end of the update cycle it caused, ms. */
  ms: number;
  /** Whose tiles ran `updated()`. */
  tilesUpdated: string[];
  gridUpdates: number;
}

export interface GridBench {
  /** Tiles shown (not hidden behind "+N"). */
  shown(): number;
  /** `updates` changes in `mode`, one at a time, each after a frame. */
  run(mode: GridMode, updates: number): Promise<GridUpdate[]>;
}

declare global {
  interface Window {
    /** Renders the grid with this many participants; resolves with how many tiles it shows. */
    startGridBench(participants: number): Promise<number>;
    gridBench: Promise<GridBench>;
  }
}

const noLocalMedia: LocalMedia = {
  microphone: true,
  camera: false,
  screen: false,
  cameraStream: null,
  screenStream: null,
};
const noAi: MeetingAi = {
  available: false,
  state: 'off',
  agent: null,
  talker: null,
  talking: false,
  mayManage: false,
  caption: null,
};

async function setUp(participants: number): Promise<GridBench> {
  const people: Participant[] = Array.from({ length: participants }, (_, i) => ({
    id: `participant-${i}`,
    name: `Person ${i + 1}`,
    role: i === 0 ? 'host' : 'guest',
    joinedAt: i,
    microphone: true,
    camera: false,
    handRaised: false,
    tracks: {},
  }));
  const state = new BehaviorSubject<RoomState>({
    ...emptyRoomState,
    selfId: people[0]!.id,
    participants: people,
  });
  const speaking = new BehaviorSubject<readonly string[]>([]);
  // What the grid reads of a meeting; the rest is never called.
  const meeting = {
    state$: state,
    local$: of(noLocalMedia),
    remote$: of(new Map<string, RemoteMedia>()),
    speaking$: speaking,
    pinned$: of(null),
    ai$: of(noAi),
    showVideo: () => undefined,
  } as Partial<Meeting> as Meeting;

  let gridUpdates = 0;
  const tileUpdates: MeetParticipantTile[] = [];
  // Counted before the elements are defined, so every instance is.
  type Updated = { updated: (this: unknown, changed: unknown) => void };
  const tile = MeetParticipantTile.prototype as unknown as Updated;
  const tileUpdated = tile.updated;
  tile.updated = function (this: unknown, changed) {
    tileUpdates.push(this as MeetParticipantTile);
    tileUpdated.call(this, changed);
  };
  const grid = MeetParticipantGrid.prototype as unknown as Updated;
  const gridUpdated = grid.updated;
  grid.updated = function (this: unknown, changed) {
    gridUpdates++;
    gridUpdated.call(this, changed);
  };
  defineElement('meet-participant-grid', MeetParticipantGrid);

  const wrapper = document.createElement('div');
  wrapper.style.cssText = 'position: fixed; inset: 0';
  new ContextProvider(wrapper, { context: meetingContext, initialValue: meeting });
  document.body.append(wrapper);
  const el = document.createElement('meet-participant-grid');
  el.setAttribute('max-tiles', String(participants));
  el.setAttribute('min-tile-width', '100');
  el.style.height = '100%';
  wrapper.append(el);

  const tiles = () => [...el.shadowRoot!.querySelectorAll('meet-participant-tile')];
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  // Laid out: every tile shown and rendered.
  while (tiles().filter((t) => !t.hidden && t.getBoundingClientRect().width > 0).length < participants)
    await frame();

  /** Makes one change; the next participant's turn after the four changes. */
  const apply = (mode: GridMode, change: GridChange, id: string) => {
    if (change === 'speaking-on' || change === 'speaking-off') {
      if (mode === 'baseline') state.next(renewed(state.value));
      speaking.next(change === 'speaking-on' ? [id] : []);
      return;
    }
    const changed = applyServerMessage(state.value, {
      type: 'participant-updated',
      id,
      changes: { microphone: change === 'microphone-on' },
    });
    state.next(mode === 'baseline' ? renewed(changed) : changed);
  };

  let turn = 0;
  return {
    shown: () => tiles().filter((t) => !t.hidden).length,
    async run(mode, updates) {
      const results: GridUpdate[] = [];
      for (let i = 0; i < updates; i++, turn++) {
        const change = GRID_CHANGES[turn % GRID_CHANGES.length]!;
        // Everyone but you, in turn.
        const id = people[1 + (Math.floor(turn / GRID_CHANGES.length) % (participants - 1))]!.id;
        await frame();
        tileUpdates.length = 0;
        gridUpdates = 0;
        // Finds this change's script in a Chrome trace.
        performance.mark('meet-grid-change');
        const start = performance.now();
        apply(mode, change, id);
        await el.updateComplete;
        await Promise.all(tiles().map((t) => t.updateComplete));
        const ms = performance.now() - start;
        results.push({
          change,
          participant: id,
          ms,
          tilesUpdated: tileUpdates.map((t) => t.participant?.id ?? '?'),
          gridUpdates,
        });
      }
      return results;
    },
  };
}

/** The baseline: the same room, every participant a new object. */
const renewed = (state: RoomState): RoomState => ({
  ...state,
  participants: state.participants.map((p) => ({ ...p })),
});

window.startGridBench = async (participants) => {
  window.gridBench = setUp(participants);
  return (await window.gridBench).shown();
};
