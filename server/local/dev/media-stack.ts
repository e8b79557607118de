/**
 * The whole local stack with media: the local SFU (in this process) and the
 * Worker under `wrangler dev` pointed at it. For end-to-end tests and
 * benchmarks, which can also restart the Worker (a deploy, a crash) on the
 * same port and storage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalSfu, type LocalSfu, type LocalSfuOptions } from '../sfu/calls-server.js';
import { LOCAL_CALLS_APP_ID, LOCAL_CALLS_APP_SECRET, localCallsVars } from '../sfu/local-app.js';
import { startLocalWorker, type LocalWorker, type LocalWorkerOptions } from './worker.js';

export interface MediaStack {
  sfu: LocalSfu;
  /** The Worker running now (a new one after `restartWorker`). */
  readonly worker: LocalWorker;
  /** Kills the Worker and starts it again on the same port with the same storage. */
  restartWorker(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMediaStack(
  options: LocalWorkerOptions & { sfu?: Partial<LocalSfuOptions> } = {},
): Promise<MediaStack> {
  const { sfu: sfuOptions, ...workerOptions } = options;
  const sfu = await startLocalSfu({
    ...sfuOptions,
    appId: LOCAL_CALLS_APP_ID,
    appSecret: LOCAL_CALLS_APP_SECRET,
  });
  const ownStorage = workerOptions.persistTo ? null : mkdtempSync(join(tmpdir(), 'meetkit-stack-'));
  const start = (port?: number) =>
    startLocalWorker({
      ...workerOptions,
      persistTo: workerOptions.persistTo ?? ownStorage!,
      ...(port ? { port } : {}),
      vars: { ...localCallsVars(sfu.callsApiUrl), ...workerOptions.vars },
    });
  try {
    let worker = await start(workerOptions.port);
    return {
      sfu,
      get worker() {
        return worker;
      },
      async restartWorker() {
        const { port } = worker;
        await worker.stop();
        worker = await start(port);
      },
      async stop() {
        await worker.stop();
        await sfu.close();
        if (ownStorage) rmSync(ownStorage, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await sfu.close();
    throw error;
  }
}
