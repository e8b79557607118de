/**
 * Starts the Worker under `wrangler dev` on 127.0.0.1 for `npm start`, tests
 * and benchmarks, with the offline settings from TOOLCHAIN.md, and stops it by
 * its process group so no workerd is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcessGroup, trackProcessGroup } from './processes.js';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface LocalWorker {
  /** e.g. `http://127.0.0.1:40123` */
  readonly url: string;
  readonly port: number;
  /** The wrangler process; it leads a process group that holds its workerd processes too. */
  readonly pid: number;
  /** The `--persist-to` directory: Durable Object state is under `v3/do/<script>-<Class>/`. */
  readonly persistDir: string;
  stop(): Promise<void>;
}

export interface LocalWorkerOptions {
  /** Worker variables (`JOIN_SECRET`, `ALLOWED_ORIGINS`, ...). */
  vars?: Record<string, string>;
  /** Fixed port; a free one is chosen otherwise. */
  port?: number;
  /** Give up when not ready after this long. */
  startTimeoutMs?: number;
  /** Keep Durable Object storage here (to restart over the same state); a fresh temp dir otherwise. */
  persistTo?: string;
  /** Print wrangler's output (for `npm start`). */
  inheritOutput?: boolean;
  /** Another wrangler config than the project's (the benchmark's baseline Worker). */
  config?: string;
}

export const offlineEnv = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  // Never prompt, never open a browser.
  CI: 'true',
  // wrangler's local explorer wraps every SQLite Durable Object and writes its
  // name into the object's database as it starts, which production never does.
  X_LOCAL_EXPLORER: 'false',
} as const;

/**
 * The environment without the test runner's own variables: wrangler changes
 * its behaviour when it believes it runs inside vitest.
 */
function runnerFreeEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('VITEST') || key === 'TEST' || key === 'NODE_ENV') delete env[key];
  }
  return env;
}

/**
 * Ports handed out below the kernel's ephemeral range (32768 and up here):
 * a port from `listen(0)` is free only until something else asks the kernel
 * for one (workerd's own listeners, another test file starting a Worker),
 * and a Worker that loses that race would have its readiness answered by the
 * other one. A random port below the range is only taken if someone picks it
 * on purpose.
 */
const PORT_RANGE = { min: 20_000, max: 32_000 };

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolvePort(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = PORT_RANGE.min + Math.floor(Math.random() * (PORT_RANGE.max - PORT_RANGE.min));
    if (await tryListen(port)) return port;
  }
  throw new Error(`No free port between ${PORT_RANGE.min} and ${PORT_RANGE.max}`);
}

export async function startLocalWorker(options: LocalWorkerOptions = {}): Promise<LocalWorker> {
  const port = options.port ?? (await freePort());
  const persistDir = options.persistTo ?? mkdtempSync(join(tmpdir(), 'meetkit-state-'));
  const args = [
    join(projectRoot, 'node_modules/wrangler/bin/wrangler.js'),
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(await freePort()),
    '--show-interactive-dev-session=false',
    '--persist-to',
    persistDir,
    '--log-level',
    options.inheritOutput ? 'info' : 'warn',
  ];
  if (options.config) args.push('--config', options.config);
  for (const [key, value] of Object.entries(options.vars ?? {})) args.push('--var', `${key}:${value}`);

  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: {
      ...runnerFreeEnv(),
      ...offlineEnv,
    },
    // Its own process group, so stop() reaches workerd too.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A runner that exits without calling stop(), or is interrupted, must not leave workerd behind.
  trackProcessGroup(child);
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (options.inheritOutput) process.stdout.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const stop = async () => {
    await stopProcessGroup(child);
    if (!options.persistTo) rmSync(persistDir, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(url, child, options.startTimeoutMs ?? 30_000, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, pid: child.pid!, persistDir, stop };
}

async function waitUntilReady(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`wrangler dev exited before it was ready:\n${output()}`);
    try {
      const response = await fetch(`${url}/`, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      return;
    } catch {
      // Not listening yet: wrangler takes a few seconds to start workerd.
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`wrangler dev was not ready within ${timeoutMs} ms:\n${output()}`);
}
