/**
 * `npm run bench`: every benchmark, medians over several runs, each next to
 * its baseline measured in the same run.
 *   fanout  room fan-out, our deltas against the whole-room-per-change baseline
 *   media   join → first remote frame through the SFU, next to the peer-to-peer floor
 *   cpu     local SFU CPU per forwarded 640×480@30 stream
 *   bundle  the widget minified + brotli: before the lobby is interactive, everything, the classic script
 *   flood   a legitimate participant's update latency under one client's flood, next to no flood
 *   reconnect  path restored (network cut, Worker restart) → back in the meeting with media
 *   speaking  a tone starts on one page → that person's tile speaking on another
 *   ai      Invite AI → its voice pulled on the other page; Talk to AI released → first answer packet
 *   downlink  one viewer among 12 camera publishers, grid of 6: video bytes/s with stage + simulcast vs all top layers
 *   grid    49 tiles, one person changes: tiles re-rendered and script time per change, next to renewing everyone
 *   deliveries  feedback POSTed → at a local receiver through the queue: messages/s, p50/p99, with a receiver
 *     that fails every other request next to one that never fails (npm run bench -- --suites deliveries --runs 3)
 *     (npm run bench -- --suites grid --runs 3 --grid-updates 200)
 *   npm run bench -- --suites fanout,media,cpu,bundle,flood,reconnect,speaking,ai --sizes 10,50,200 --runs 3
 *     --changes 100 --media-runs 10 --flooders 10,100 --reconnect-runs 5 --speaking-runs 10 --ai-runs 10
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWidget } from '../server/local/dev/build.js';
import { startMediaStack } from '../server/local/dev/media-stack.js';
import { startStaticServer } from '../server/local/dev/static-server.js';
import { projectRoot, startLocalWorker } from '../server/local/dev/worker.js';
import { localOpenAiVars, LOCAL_OPENAI_API_KEY } from '../server/local/realtime/local-key.js';
import { startLocalRealtime } from '../server/local/realtime/server.js';
import { measureAiAgent } from './ai-agent.js';
import { BUDGET_BYTES, measureBundle } from './bundle-size.js';
import { measureDeliveries, startDeliveryScenario, type DeliveryRun } from './deliveries.js';
import { measureDownlink } from './downlink.js';
import { measureSpeaking } from './speaking.js';
import { measureGridRender, printGridRender } from './grid-render.js';
import { LOBBY_MS, measureJoinToFrame } from './join-to-frame.js';
import type { JoinSteps } from './join-trace.js';
import { measureReconnect, type ReconnectResult, type ReconnectScenario } from './reconnect.js';
import { runFanout, type FanoutResult } from './room-fanout.js';
import { reusedToken, runFlood, type FloodResult } from './room-flood.js';
import { measureSfuCpu } from './sfu-cpu.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,50,200' },
    runs: { type: 'string', default: '3' },
    changes: { type: 'string', default: '100' },
    suites: { type: 'string', default: 'fanout,media,cpu,bundle,flood,reconnect,speaking,ai,downlink,grid' },
    publishers: { type: 'string', default: '12' },
    'media-runs': { type: 'string', default: '10' },
    streams: { type: 'string', default: '3' },
    flooders: { type: 'string', default: '10,100' },
    'reconnect-runs': { type: 'string', default: '5' },
    'ai-runs': { type: 'string', default: '10' },
    'speaking-runs': { type: 'string', default: '10' },
    'grid-updates': { type: 'string', default: '200' },
    messages: { type: 'string', default: '200' },
    'retry-seconds': { type: 'string', default: '1' },
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
  // Every client comes from 127.0.0.1 here: the per-address cap is raised to let in as many as a room takes.
  const vars = { MAX_CONNECTIONS_PER_ADDRESS: '1000' };
  const delta = await startLocalWorker({ vars });
  const snapshot = await startLocalWorker({
    vars,
    config: join(projectRoot, 'benchmarks/whole-room/wrangler.jsonc'),
  });

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
    const { sfuMs, p2pMs, steps, coldMs, coldSteps, lobbyMs } = await measureJoinToFrame(
      stack.worker.url,
      hostSite,
      mediaRuns,
    );
    const sfu = median2(sfuMs);
    const p2p = median2(p2pMs);
    console.log(
      `  through Worker + local SFU: median ${sfu.toFixed(0)} ms  (runs: ${sfuMs.map((x) => x.toFixed(0)).join(', ')})`,
    );
    console.log(
      `  peer-to-peer floor:         median ${p2p.toFixed(0)} ms  (runs: ${p2pMs.map((x) => x.toFixed(0)).join(', ')})`,
    );
    console.log(
      `  ratio ${(sfu / p2p).toFixed(2)}× the floor (target ≤ 2×: ${sfu <= 2 * p2p ? 'met' : 'NOT met'})`,
    );
    console.log(
      `  Ann waited in the lobby, name typed, for her media connection: median ${median(lobbyMs)} ms (at most ${LOBBY_MS})`,
    );
    const showSteps = (runs: JoinSteps[]) => {
      for (const step of Object.keys(runs[0] ?? {})) {
        const seen = runs.map((run) => run[step]).filter((ms): ms is number => typeof ms === 'number');
        console.log(
          `    ${step.padEnd(28)} ${seen.length ? String(median(seen)).padStart(5) : '    –'}${seen.length < runs.length ? `  (in ${seen.length} of ${runs.length} runs)` : ''}`,
        );
      }
    };
    console.log('  where the time goes (ms after the click, medians; the joiner is Ann, the viewer Bob):');
    showSteps(steps);
    const cold = median(coldMs);
    console.log(
      `  Cy, nothing on, joins → Ann's first frame on Cy's page: median ${cold.toFixed(0)} ms, ${(cold / p2p).toFixed(2)}× the floor (runs: ${coldMs.map((x) => x.toFixed(0)).join(', ')})`,
    );
    showSteps(coldSteps);
    results.media = {
      runs: mediaRuns,
      sfuMs,
      p2pMs,
      sfuMedian: sfu,
      p2pMedian: p2p,
      steps,
      coldMs,
      coldMedian: cold,
      coldSteps,
      lobbyMs,
    };
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

async function bundle() {
  const report = await measureBundle();
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const verdict = (bytes: number, target: number) =>
    `${bytes.toLocaleString('en')} B; target ≤ ${target.toLocaleString('en')} B: ${bytes <= target ? 'met' : 'NOT met'}`;
  console.log('\nBrowser payload (minified + brotli, each file on its own):');
  const { lobby, everything, iife } = report;
  console.log(
    `  before the lobby is interactive (${lobby.files.join(' + ')}): ${kib(lobby.brotliBytes)} (${kib(lobby.rawBytes)} raw; ${verdict(lobby.brotliBytes, BUDGET_BYTES.lobby)})`,
  );
  console.log(
    `  everything (${everything.files.length} files): ${kib(everything.brotliBytes)} (${kib(everything.rawBytes)} raw; ${verdict(everything.brotliBytes, BUDGET_BYTES.everything)})`,
  );
  console.log(
    `  classic script (${iife.files.join(' + ')}, one file): ${kib(iife.brotliBytes)} (${kib(iife.rawBytes)} raw; ${verdict(iife.brotliBytes, BUDGET_BYTES.everything)})`,
  );
  console.log(
    '  What each file is made of (its brotli bytes shared out by minified bytes, from the source map):',
  );
  for (const { file, parts } of report.makeup) {
    // Parts of half a KiB or more, and at least the three largest.
    const shown = parts.slice(0, Math.max(3, parts.filter((part) => part.brotliBytesEstimate >= 512).length));
    const rest = parts.length - shown.length;
    console.log(
      `    ${file}: ${shown.map((part) => `${part.name} ${kib(part.brotliBytesEstimate)}`).join(', ')}${rest ? ` and ${rest} smaller` : ''}`,
    );
  }
  results.bundle = report;
}

async function flood() {
  const flooderCounts = values.flooders.split(',').map(Number);
  const connections = 290;
  console.log(
    `\nFlood: ${connections} attacker connections over 30 addresses, some toggling a hand 15 times a second each (under the per-connection limit); a legitimate participant changes their camera every 600 ms for 20 s, another measures delivery. ${runs} runs, medians.`,
  );
  const secret = 'benchmark-join-secret-long-enough-for-hs256';
  const worker = await startLocalWorker({
    vars: process.env.ROOM_SENDS_PER_SECOND
      ? { ROOM_SENDS_PER_SECOND: process.env.ROOM_SENDS_PER_SECOND }
      : {},
  });
  const secured = await startLocalWorker({ vars: { JOIN_SECRET: secret } });
  const rows: { flooders: number; runs: FloodResult[] }[] = [];
  try {
    for (const flooders of [0, ...flooderCounts]) {
      const all: FloodResult[] = [];
      for (let run = 0; run < runs; run++) {
        all.push(
          await runFlood({
            serverUrl: worker.url,
            connections,
            flooders,
            floodRate: 15,
            durationMs: 20_000,
            addresses: 30,
          }),
        );
      }
      rows.push({ flooders, runs: all });
      const r = all;
      console.log(
        `  ${String(flooders).padStart(3)} flooders: legitimate update p50 ${median(r.map((x) => x.p50)).toFixed(1)} ms, p99 ${median(r.map((x) => x.p99)).toFixed(1)} ms` +
          ` (runs p99: ${r.map((x) => x.p99.toFixed(0)).join(', ')}); missing ${r.reduce((n, x) => n + x.missing, 0)};` +
          ` flood deltas let through ${median(r.map((x) => x.floodDeltasPerSecond)).toFixed(0)}/s;` +
          ` admitted ${median(r.map((x) => x.admitted))}; legitimate stayed: ${r.every((x) => x.legitimateStayed) ? 'yes' : 'NO'}`,
      );
    }
    const token = await reusedToken(secured.url, secret, 300);
    console.log(
      `  one join token on 300 connections: ${token.admitted} admitted, refused ${JSON.stringify(token.refused)}`,
    );
    const worst = Math.max(
      ...rows.filter((r) => r.flooders > 0).map((r) => median(r.runs.map((x) => x.p99))),
    );
    console.log(
      `  target: p99 under flood < 250 ms: ${worst < 250 ? 'met' : 'NOT met'} (${worst.toFixed(0)} ms)`,
    );
    results.flood = { connections, rows, reusedToken: token };
  } finally {
    await Promise.all([worker.stop(), secured.stop()]);
  }
}

async function reconnect() {
  const reconnectRuns = Number(values['reconnect-runs']);
  console.log(
    `\nPath restored → back in the meeting with video both ways, ${reconnectRuns} runs each (demo host page, two visitors, camera and microphone on)…`,
  );
  const stack = await startMediaStack();
  const hostSite = await startStaticServer(join(projectRoot, 'demo/host'));
  const all: Record<string, ReconnectResult[]> = {};
  try {
    for (const scenario of ['cut', 'cut+media', 'restart'] as ReconnectScenario[]) {
      const runsOf = await measureReconnect(stack, hostSite, scenario, reconnectRuns);
      all[scenario] = runsOf;
      const media = median(runsOf.map((r) => r.mediaMs));
      console.log(
        `  ${scenario.padEnd(9)}: back in the meeting median ${median(runsOf.map((r) => r.resumedMs)).toFixed(0)} ms, media both ways median ${media.toFixed(0)} ms` +
          ` (runs: ${runsOf.map((r) => r.mediaMs.toFixed(0)).join(', ')}; target < 5 s: ${media < 5_000 ? 'met' : 'NOT met'}, goal < 2 s: ${media < 2_000 ? 'met' : 'not yet'})`,
      );
    }
    results.reconnect = all;
  } finally {
    await hostSite.stop();
    await stack.stop();
  }
}

async function speaking() {
  const speakingRuns = Number(values['speaking-runs']);
  console.log(
    `\nSpeaking: a tone starts in Ann's page → her tile speaking in Bob's, ${speakingRuns} runs (demo host page)…`,
  );
  const stack = await startMediaStack();
  const hostSite = await startStaticServer(join(projectRoot, 'demo/host'));
  try {
    const runsOf = await measureSpeaking(stack, hostSite, speakingRuns);
    const value = median(runsOf);
    console.log(
      `  median ${value.toFixed(0)} ms (runs: ${runsOf.map((v) => v.toFixed(0)).join(', ')}; target ≤ 300 ms: ${value <= 300 ? 'met' : 'NOT met'})`,
    );
    results.speaking = runsOf;
  } finally {
    await hostSite.stop();
    await stack.stop();
  }
}

async function deliveries() {
  const messages = Number(values.messages);
  const retrySeconds = Number(values['retry-seconds']);
  console.log(
    `\nDeliveries: ${messages} problem reports POSTed at once → first copy at a local receiver, through the room's outbox and the local queue; ${runs} runs each of a receiver that never fails and one that fails every other request (500 or reset), alternating; failed attempts retried after ${retrySeconds} s…`,
  );
  // One Worker at a time: two wrangler instances starting at once can stall each other.
  const healthy = await startDeliveryScenario(0, retrySeconds);
  const flaky = await startDeliveryScenario(0.5, retrySeconds);
  const byScenario: Record<string, DeliveryRun[]> = { '0%': [], '50%': [] };
  try {
    for (let run = 0; run < runs; run++) {
      byScenario['0%']!.push(await measureDeliveries(healthy, messages));
      byScenario['50%']!.push(await measureDeliveries(flaky, messages));
    }
  } finally {
    await healthy.close();
    await flaky.close();
  }
  for (const [label, rows] of Object.entries(byScenario)) {
    const m = (pick: (row: DeliveryRun) => number) => median(rows.map(pick));
    console.log(
      `  ${label.padStart(3)} failures: ${m((r) => r.perSecond).toFixed(0)} messages/s, p50 ${m((r) => r.p50Ms)} ms, p99 ${m((r) => r.p99Ms)} ms; POST answered p50 ${m((r) => r.answerP50Ms)} ms (as many GET /api/rooms/<room> at once: p50 ${m((r) => r.summaryP50Ms)} ms) (medians of ${rows.length}; receiver requests ${rows.map((r) => r.requests).join(', ')}; runs p99 ${rows.map((r) => r.p99Ms).join(', ')} ms)`,
    );
  }
  results.deliveries = byScenario;
}

async function downlink() {
  const publishers = Number(values.publishers);
  const maxTiles = 6;
  const windows = Math.max(3, runs);
  console.log(
    `\nDownlink: one viewer among ${publishers} camera publishers (fake 640×480 cameras at 15 fps in one page), its grid showing ${maxTiles} tiles, next to a viewer pulling every camera's top layer, at the same time; ${windows} windows of 5 s…`,
  );
  const stack = await startMediaStack();
  const hostSite = await startStaticServer(join(projectRoot, 'demo/host'));
  try {
    const result = await measureDownlink(stack, hostSite, { publishers, maxTiles, windows, windowMs: 5_000 });
    const stage = median(result.stageBytesPerSecond);
    const baseline = median(result.baselineBytesPerSecond);
    const kbps = (bytesPerSecond: number) => `${((bytesPerSecond * 8) / 1000).toFixed(0)} kbit/s`;
    const share = stage / baseline;
    console.log(
      `  stage + simulcast: ${kbps(stage)} for ${result.stageVideos} videos (frame widths ${JSON.stringify(result.stageWidths)})`,
    );
    console.log(`  baseline, every top layer: ${kbps(baseline)} for ${result.baselineVideos} videos`);
    console.log(
      `  ${(share * 100).toFixed(0)}% of the baseline (windows: ${result.stageBytesPerSecond.map((v, i) => `${((v / result.baselineBytesPerSecond[i]!) * 100).toFixed(0)}%`).join(', ')}; target ≤ 35%: ${share <= 0.35 ? 'met' : 'NOT met'})`,
    );
    results.downlink = result;
  } finally {
    await hostSite.stop();
    await stack.stop();
  }
}

async function ai() {
  const aiRuns = Number(values['ai-runs']);
  console.log(
    `\nAI agent, ${aiRuns} runs (demo host page, two visitors with microphones; the local OpenAI stand-in answers at once)…`,
  );
  const realtime = await startLocalRealtime({ apiKey: LOCAL_OPENAI_API_KEY });
  const stack = await startMediaStack({ vars: localOpenAiVars(realtime.url) });
  const hostSite = await startStaticServer(join(projectRoot, 'demo/host'));
  try {
    const runsOf = await measureAiAgent(stack, hostSite, realtime, aiRuns);
    const show = (label: string, values: number[]) =>
      console.log(
        `  ${label}: median ${median(values).toFixed(0)} ms (runs: ${values.map((v) => v.toFixed(0)).join(', ')})`,
      );
    show(
      'Invite AI → its voice pulled on the other page      ',
      runsOf.map((r) => r.inviteMs),
    );
    show(
      'Talk to AI released → first answer packet elsewhere',
      runsOf.map((r) => r.answerMs),
    );
    results.ai = runsOf;
  } finally {
    await hostSite.stop();
    await stack.stop();
    await realtime.close();
  }
}

// What the pages load and the bundle suite weighs: the widget as the source is now.
if (
  ['bundle', 'media', 'cpu', 'reconnect', 'speaking', 'ai', 'downlink'].some((suite) => suites.has(suite)) &&
  !buildWidget({ quiet: true })
)
  throw new Error('vite build failed');
if (suites.has('bundle')) await bundle();
if (suites.has('fanout')) await fanout();
if (suites.has('media')) await media();
if (suites.has('cpu')) await cpu();
if (suites.has('flood')) await flood();
if (suites.has('reconnect')) await reconnect();
if (suites.has('speaking')) await speaking();
if (suites.has('ai')) await ai();
if (suites.has('downlink')) await downlink();
if (suites.has('deliveries')) await deliveries();
if (suites.has('grid')) {
  const updates = Number(values['grid-updates']);
  console.log(
    `\nGrid of 49, one participant changes: ${runs} runs of ${updates} changes each way (headless Chromium)…`,
  );
  printGridRender((results.grid = await measureGridRender({ updates, runs })));
}

const resultsDir = join(projectRoot, 'benchmarks/results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(results, null, 2));
console.log(`\nWrote benchmarks/results/latest.json`);
