/**
 * `npm run bench`: every benchmark, medians over several runs, each next to
 * its baseline measured in the same run.
 *   fanout  room fan-out, our deltas against the whole-room-per-change baseline
 *   media   join → first remote frame through the SFU, next to the peer-to-peer floor
 *   cpu     local SFU CPU per forwarded 640×480@30 stream
 *   bundle  /meetkit.js minified + brotli
 *   npm run bench -- --suites fanout,media,cpu,bundle --sizes 10,50,200 --runs 3 --changes 100 --media-runs 10
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWidget } from '../server/local/dev/build.js';
import { startMediaStack } from '../server/local/dev/media-stack.js';
import { startStaticServer } from '../server/local/dev/static-server.js';
import { projectRoot, startLocalWorker } from '../server/local/dev/worker.js';
import { bundleSizes } from './bundle-size.js';
import { measureJoinToFrame } from './join-to-frame.js';
import { runFanout, type FanoutResult } from './room-fanout.js';
import { measureSfuCpu } from './sfu-cpu.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,50,200' },
    runs: { type: 'string', default: '3' },
    changes: { type: 'string', default: '100' },
    suites: { type: 'string', default: 'fanout,media,cpu,bundle' },
    'media-runs': { type: 'string', default: '10' },
    streams: { type: 'string', default: '3' },
  },
});
const suites = new Set(values.suites.split(','));
const results: Record<string, unknown> = { date: new Date().toISOString() };
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);
const changes = Number(values.changes);

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function fanout() {
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
  const bytes = (n: number) =>
    (n >= 10_000 ? `${(n / 1024).toFixed(0)} KiB` : `${n.toFixed(0)} B`).padStart(9);
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
  results.fanout = { changes, runs, rows };
}

const median2 = (xs: number[]) => median(xs);

async function media() {
  const mediaRuns = Number(values['media-runs']);
  console.log(`\nJoin → first remote video frame, ${mediaRuns} runs (demo host page, fake 640×480 camera)…`);
  const stack = await startMediaStack();
  const hostSite = await startStaticServer(join(projectRoot, 'demo/host'));
  try {
    const { sfuMs, p2pMs } = await measureJoinToFrame(stack.worker.url, hostSite, mediaRuns);
    const sfu = median2(sfuMs);
    const p2p = median2(p2pMs);
    console.log(
      `  through Worker + local SFU: median ${sfu.toFixed(0)} ms  (runs: ${sfuMs.map((x) => x.toFixed(0)).join(', ')})`,
    );
    console.log(
      `  peer-to-peer floor:         median ${p2p.toFixed(0)} ms  (runs: ${p2pMs.map((x) => x.toFixed(0)).join(', ')})`,
    );
    console.log(
      `  ratio ${(sfu / p2p).toFixed(2)}× the floor (target ≤ 3×: ${sfu <= 3 * p2p ? 'met' : 'NOT met'})`,
    );
    results.media = { runs: mediaRuns, sfuMs, p2pMs, sfuMedian: sfu, p2pMedian: p2p };
  } finally {
    await hostSite.stop();
    await stack.stop();
  }
}

async function cpu() {
  const streams = Number(values.streams);
  const cpuRuns = Number(values.runs);
  console.log(
    `\nLocal SFU CPU, one 640×480@30 camera forwarded to ${streams} viewers, ${cpuRuns} runs of 10 s…`,
  );
  const hostSite = await startStaticServer(join(projectRoot, 'demo/host'));
  try {
    const all = [];
    for (let run = 0; run < cpuRuns; run++) all.push(await measureSfuCpu(hostSite, streams, 10));
    const perStream = median2(all.map((r) => r.cpuPercentPerStream));
    console.log(
      `  runs (% of a core per stream): ${all.map((r) => r.cpuPercentPerStream.toFixed(2)).join(', ')}`,
    );
    console.log(
      `  median ${perStream.toFixed(2)}% of a core per forwarded stream (total ${median2(all.map((r) => r.cpuPercent)).toFixed(1)}%), ${median2(all.map((r) => r.packetsPerSecondPerStream)).toFixed(0)} packets/s per stream (target ≤ 3%: ${perStream <= 3 ? 'met' : 'NOT met'})`,
    );
    results.cpu = { runs: all, medianPercentPerStream: perStream };
  } finally {
    await hostSite.stop();
  }
}

function bundle() {
  if (!buildWidget({ quiet: true })) throw new Error('vite build failed');
  console.log('\nBrowser payload (minified + brotli):');
  const sizes = bundleSizes();
  for (const { file, rawBytes, brotliBytes } of sizes)
    console.log(
      `  dist/${file}: ${(rawBytes / 1024).toFixed(1)} KiB raw, ${(brotliBytes / 1024).toFixed(1)} KiB brotli (target ≤ 40 KiB: ${brotliBytes <= 40 * 1024 ? 'met' : 'NOT met'})`,
    );
  results.bundle = sizes;
}

if (suites.has('bundle')) bundle();
if (suites.has('fanout')) await fanout();
if (suites.has('media')) await media();
if (suites.has('cpu')) await cpu();

const resultsDir = join(projectRoot, 'benchmarks/results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(results, null, 2));
console.log(`\nWrote benchmarks/results/latest.json`);
