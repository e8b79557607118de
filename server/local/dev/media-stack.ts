/**
 * The whole local stack with media: the local SFU (in this process) and the
 * Worker under `wrangler dev` pointed at it. For end-to-end tests and benchmarks.
 */
import { startLocalSfu, type LocalSfu } from '../sfu/calls-server.js';
import { LOCAL_CALLS_APP_ID, LOCAL_CALLS_APP_SECRET, localCallsVars } from '../sfu/local-app.js';
import { startLocalWorker, type LocalWorker, type LocalWorkerOptions } from './worker.js';

export interface MediaStack {
  sfu: LocalSfu;
  worker: LocalWorker;
  stop(): Promise<void>;
}

export async function startMediaStack(options: LocalWorkerOptions = {}): Promise<MediaStack> {
  const sfu = await startLocalSfu({ appId: LOCAL_CALLS_APP_ID, appSecret: LOCAL_CALLS_APP_SECRET });
  try {
    const worker = await startLocalWorker({
      ...options,
      vars: { ...localCallsVars(sfu.callsApiUrl), ...options.vars },
    });
    return {
      sfu,
      worker,
      async stop() {
        await worker.stop();
        await sfu.close();
      },
    };
  } catch (error) {
    await sfu.close();
    throw error;
  }
}
