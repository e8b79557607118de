/**
 * A grid of 49 where one person changes (microphone off/on, speaking on/off):
 * how many tiles re-render, and the script time per change, in headless
 * Chromium with the grid's production build and no server (`grid-page.ts`).
 * Our way (the room's delta applied by `room-state.ts`, every other
 * participant the same object) next to a baseline measured in the same run:
 * the same change with every participant a new object, which re-renders
 * every tile.
 *
 * Script time per change, two ways. The page makes each change in a task of
 * its own, and everything it causes (the room state, the grid's update, the
 * tiles') runs in that task's microtasks: Chrome's trace event for them
 * (`RunMicrotasks`, found by a mark the page sets just before the change)
 * gives the main thread's CPU time (`tdur`), which is the scripting figure,
 * unmoved by other processes taking the CPU away. The page's own
 * `performance.now()` from the change to the end of the Lit update cycle is
 * the wall time (in 0.1 ms steps; longer when the machine is busy).
 * `Performance.getMetrics`' `ScriptDuration` is no use here: it counts the
 * script Blink calls (a timer's callback), not the microtasks after it, and
 * reads about 0.1 ms per change whatever the grid does.
 */
import { chromium } from 'playwright-core';
import { build, type Rolldown } from 'vite';
import { chromiumArgs, findChromium } from '../server/local/dev/chromium.js';
import { projectRoot } from '../server/local/dev/worker.js';
import type { GridChange, GridMode, GridUpdate } from './grid-page.js';

export interface GridModeSummary {
  updates: number;
  /** Main-thread CPU time of each change's script (ms): median, p95. */
  cpuMedianMs: number;
  cpuP95Ms: number;
  /** Wall time from the change to the end of its update cycle (ms): median, p95. */
  wallMedianMs: number;
  wallP95Ms: number;
  /** CPU median by kind of change. */
  cpuMedianMsByChange: Record<GridChange, number>;
  /** Tiles that ran `updated()` per change: median and most. */
  tilesUpdatedMedian: number;
  tilesUpdatedMax: number;
  /** Changes where exactly the changed participant's tile updated, and the grid once. */
  onlyThatTile: number;
}

export interface GridRenderResult {
  participants: number;
  runs: number;
  updatesPerRun: number;
  delta: GridModeSummary;
  baseline: GridModeSummary;
}

type MeasuredUpdate = GridUpdate & { cpuMs: number };

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
};

/** The page script, built as the widget is (production Lit, rxjs's ES2015 build), in one file. */
async function bundlePage(): Promise<string> {
  const built = await build({
    configFile: false,
    root: projectRoot,
    logLevel: 'warn',
    resolve: { conditions: ['es2015', 'module', 'browser', 'production'] },
    build: {
      write: false,
      minify: true,
      target: 'es2022',
      lib: { entry: 'benchmarks/grid-page.ts', formats: ['es'], fileName: 'grid-page' },
    },
  });
  const outputs = (Array.isArray(built) ? built : [built]) as Rolldown.RolldownOutput[];
  const entry = outputs.flatMap((o) => o.output).find((file) => file.type === 'chunk' && file.isEntry);
  if (!entry || entry.type !== 'chunk') throw new Error('The grid benchmark page did not build');
  return entry.code;
}

interface TraceEvent {
  name: string;
  ph: string;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
}

/** For each change's mark, in order: the CPU time (ms) of the microtasks it ran in. */
function microtaskCpuMs(traceEvents: TraceEvent[]): number[] {
  const runs = traceEvents.filter((e) => e.name === 'RunMicrotasks' && e.ph === 'X');
  return traceEvents
    .filter((e) => e.name === 'meet-grid-change')
    .sort((a, b) => a.ts - b.ts)
    .map((mark) => {
      const around = runs.filter(
        (e) => e.tid === mark.tid && e.ts <= mark.ts && mark.ts <= e.ts + (e.dur ?? 0),
      );
      // The outermost, should they nest.
      const outer = around.sort((a, b) => (b.dur ?? 0) - (a.dur ?? 0))[0];
      if (outer?.tdur === undefined) throw new Error('A change has no RunMicrotasks around it in the trace');
      return outer.tdur / 1000;
    });
}

function summarize(all: MeasuredUpdate[]): GridModeSummary {
  const cpu = all.map((u) => u.cpuMs);
  const wall = all.map((u) => u.ms);
  const tiles = all.map((u) => u.tilesUpdated.length);
  const byChange = (change: GridChange) =>
    quantile(
      all.filter((u) => u.change === change).map((u) => u.cpuMs),
      0.5,
    );
  return {
    updates: all.length,
    cpuMedianMs: quantile(cpu, 0.5),
    cpuP95Ms: quantile(cpu, 0.95),
    wallMedianMs: quantile(wall, 0.5),
    wallP95Ms: quantile(wall, 0.95),
    cpuMedianMsByChange: {
      'microphone-off': byChange('microphone-off'),
      'microphone-on': byChange('microphone-on'),
      'speaking-on': byChange('speaking-on'),
      'speaking-off': byChange('speaking-off'),
    },
    tilesUpdatedMedian: quantile(tiles, 0.5),
    tilesUpdatedMax: Math.max(...tiles),
    onlyThatTile: all.filter(
      (u) => u.gridUpdates === 1 && u.tilesUpdated.length === 1 && u.tilesUpdated[0] === u.participant,
    ).length,
  };
}

export async function measureGridRender({
  participants = 49,
  updates = 200,
  runs = 3,
  warmUp = 40,
}: {
  participants?: number;
  updates?: number;
  runs?: number;
  warmUp?: number;
} = {}): Promise<GridRenderResult> {
  const code = await bundlePage();
  const browser = await chromium.launch({ executablePath: findChromium(), args: chromiumArgs() });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    await page.setContent('<!doctype html><html lang="en"><body style="margin: 0"></body></html>');
    await page.addScriptTag({ content: code, type: 'module' });
    await page.waitForFunction(() => typeof window.startGridBench === 'function');
    const shown = await page.evaluate((n) => window.startGridBench(n), participants);
    if (shown !== participants) throw new Error(`The grid shows ${shown} tiles, not ${participants}`);

    const batch = async (mode: GridMode, n: number): Promise<MeasuredUpdate[]> => {
      // Only these two categories: tracing them costs next to nothing.
      await browser.startTracing(page, { categories: ['blink.user_timing', 'v8.execute'] });
      const made = await page.evaluate(async ([m, count]) => (await window.gridBench).run(m, count), [
        mode,
        n,
      ] as const);
      const trace = JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: TraceEvent[] };
      const cpuMs = microtaskCpuMs(trace.traceEvents);
      if (cpuMs.length !== made.length)
        throw new Error(`The trace has ${cpuMs.length} changes, the page made ${made.length}`);
      return made.map((update, i) => ({ ...update, cpuMs: cpuMs[i]! }));
    };

    // The JIT warms up on both paths first.
    await batch('delta', warmUp);
    await batch('baseline', warmUp);
    const measured: Record<GridMode, MeasuredUpdate[]> = { delta: [], baseline: [] };
    for (let run = 0; run < runs; run++) {
      // Alternate the order so neither always runs on a warmer page.
      for (const mode of run % 2 === 0 ? (['delta', 'baseline'] as const) : (['baseline', 'delta'] as const))
        measured[mode].push(...(await batch(mode, updates)));
    }
    return {
      participants,
      runs,
      updatesPerRun: updates,
      delta: summarize(measured.delta),
      baseline: summarize(measured.baseline),
    };
  } finally {
    await browser.close();
  }
}

/** What `npm run bench` prints. */
export function printGridRender({ delta, baseline, participants }: GridRenderResult): void {
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  const row = (label: string, s: GridModeSummary) =>
    console.log(
      `  ${label}:\n` +
        `    scripting (main-thread CPU) per change: median ${ms(s.cpuMedianMs)}, p95 ${ms(s.cpuP95Ms)}; ` +
        `wall: median ${ms(s.wallMedianMs)}, p95 ${ms(s.wallP95Ms)}\n` +
        `    CPU median by change: ${Object.entries(s.cpuMedianMsByChange)
          .map(([change, value]) => `${change} ${ms(value)}`)
          .join(', ')}\n` +
        `    tiles re-rendered per change: median ${s.tilesUpdatedMedian}, most ${s.tilesUpdatedMax}; ` +
        `only the changed tile (and the grid once): ${s.onlyThatTile} of ${s.updates} changes`,
    );
  row('one participant updated (Meetkit)', delta);
  row('every participant renewed (baseline)', baseline);
  console.log(
    `  targets: only that tile re-renders: ${delta.onlyThatTile === delta.updates ? 'met' : 'NOT met'}; ` +
      `scripting per change < 2 ms (median): ${delta.cpuMedianMs < 2 ? 'met' : 'NOT met'} ` +
      `(${(baseline.cpuMedianMs / delta.cpuMedianMs).toFixed(1)}× less than the baseline; ${participants} tiles)`,
  );
}
