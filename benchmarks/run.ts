/**
 * `npm run bench`: room fan-out, our deltas against the whole-room baseline,
 * side by side in one run, medians over several runs.
 *   npm run bench -- --sizes 10,50,200 --runs 3 --changes 100
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot, startLocalWorker } from '../tests/support/local-worker.js';
import { runFanout, type FanoutResult } from './room-fanout.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,50,200' },
    runs: { type: 'string', default: '3' },
    changes: { type: 'string', default: '100' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);
const changes = Number(values.changes);

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

console.log(`Room fan-out: ${changes} state changes by one client, ${runs} runs each, medians.`);
console.log('Starting two Workers (deltas; baseline that sends the whole room per change)…');
// One after the other: two wrangler instances starting at once can stall each other.
const delta = await startLocalWorker();
const snapshot = await startLocalWorker({ vars: { BROADCAST_MODE: 'snapshot' } });

const rows: { clients: number; delta: FanoutResult; snapshot: FanoutResult }[] = [];
try {
  for (const clients of sizes) {
    const perMode: Record<'delta' | 'snapshot', FanoutResult[]> = { delta: [], snapshot: [] };
    for (let run = 0; run < runs; run++) {
      // Alternate the order so neither mode always runs on a warmer machine.
      const order = run % 2 === 0 ? (['delta', 'snapshot'] as const) : (['snapshot', 'delta'] as const);
      for (const mode of order) {
        const serverUrl = mode === 'delta' ? delta.url : snapshot.url;
        perMode[mode].push(await runFanout({ serverUrl, mode, clients, changes, spacingMs: 50 }));
      }
    }
    const summarize = (results: FanoutResult[]): FanoutResult => ({
      mode: results[0]!.mode,
      clients,
      p50: median(results.map((r) => r.p50)),
      p99: median(results.map((r) => r.p99)),
      bytesPerRecipient: median(results.map((r) => r.bytesPerRecipient)),
      bytesPerChange: median(results.map((r) => r.bytesPerChange)),
      missing: results.reduce((n, r) => n + r.missing, 0),
    });
    rows.push({ clients, delta: summarize(perMode.delta), snapshot: summarize(perMode.snapshot) });
    console.log(`  N=${clients} done`);
  }
} finally {
  await Promise.all([delta.stop(), snapshot.stop()]);
}

const fmt = (n: number, digits = 1) => n.toFixed(digits).padStart(9);
const bytes = (n: number) => (n >= 10_000 ? `${(n / 1024).toFixed(0)} KiB` : `${n.toFixed(0)} B`).padStart(9);
console.log(
  '\n            |           deltas (Meetkit)           |       whole room per change (baseline)   |',
);
console.log(
  '   clients  |   p50 ms   p99 ms  B/recip  B/change |   p50 ms   p99 ms  B/recip   B/change   | bytes ratio',
);
for (const { clients, delta: d, snapshot: s } of rows) {
  console.log(
    `  ${String(clients).padStart(7)}   |${fmt(d.p50)}${fmt(d.p99)}${bytes(d.bytesPerRecipient)}${bytes(d.bytesPerChange)} |` +
      `${fmt(s.p50)}${fmt(s.p99)}${bytes(s.bytesPerRecipient)}${bytes(s.bytesPerChange)}    | ${(s.bytesPerChange / d.bytesPerChange).toFixed(0)}×`,
  );
}
const largest = rows.at(-1);
console.log('\nTargets: bytes per recipient per change flat in N and ≤ 300 B; p99 < 50 ms at N = 200.');
if (largest) {
  const flat = rows.every((r) => r.delta.bytesPerRecipient <= 300);
  console.log(`  bytes/recipient ≤ 300 B at every N: ${flat ? 'yes' : 'NO'}`);
  console.log(
    `  p99 at N = ${largest.clients}: ${largest.delta.p99.toFixed(1)} ms (${largest.delta.p99 < 50 ? 'met' : 'NOT met'})`,
  );
}
const missing = rows.reduce((n, r) => n + r.delta.missing + r.snapshot.missing, 0);
if (missing) console.log(`  ${missing} deliveries missed the 5 s deadline.`);

const resultsDir = join(projectRoot, 'benchmarks/results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  join(resultsDir, 'latest.json'),
  JSON.stringify({ date: new Date().toISOString(), changes, runs, rows }, null, 2),
);
console.log(`\nWrote benchmarks/results/latest.json`);
