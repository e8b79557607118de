/**
 * Every process group and in-process server the dev tools start, stopped
 * when this process ends for any reason: a normal exit, Ctrl-C, SIGTERM
 * (`timeout`, CI) or SIGHUP (a closed terminal). Without this a benchmark
 * killed by a timeout leaves its `wrangler dev` groups running.
 */
import type { ChildProcess } from 'node:child_process';

const groups = new Set<ChildProcess>();
const stoppers = new Set<() => Promise<void>>();
let installed = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  // Last chance, synchronous: only a signal can be sent from an exit handler.
  process.once('exit', () => {
    for (const child of groups) killGroup(child, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      void stopEverything().finally(() =>
        process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15)),
      );
    });
  }
}

/** Tracks a child started in its own process group (`detached: true`) until it exits. */
export function trackProcessGroup(child: ChildProcess): void {
  install();
  groups.add(child);
  child.once('exit', () => groups.delete(child));
}

/** Runs `stop` when this process is interrupted; returns a function that forgets it. */
export function onInterrupt(stop: () => Promise<void>): () => void {
  install();
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

async function stopEverything(): Promise<void> {
  const pending = [...stoppers].map((stop) => stop().catch(() => undefined));
  stoppers.clear();
  await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  for (const child of groups) killGroup(child, 'SIGKILL');
}

/** SIGTERM to the whole group, SIGKILL after 3 s, and resolves once it has exited. */
export async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
  // workerd may outlive its parent by a moment; make sure the group is gone.
  killGroup(child, 'SIGKILL');
}
