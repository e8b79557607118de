/**
 * `npm start`: builds the widget, starts the local SFU (the Calls API on
 * 127.0.0.1:8789) and the local OpenAI Realtime stand-in (127.0.0.1:8790),
 * runs the Worker under `wrangler dev` on 127.0.0.1:8787 pointed at both
 * (demo at /, widget at /meetkit.js), and serves a
 * "third-party" host page on 127.0.0.1:8788 that embeds it from the other
 * origin. Ctrl-C stops everything it started.
 *
 * The services' settings are passed through from this process's own
 * environment, so a local receiver can be pointed at:
 * `WEBHOOK_URL=http://127.0.0.1:9000/hooks npm start`.
 */
import { join } from 'node:path';
import { buildWidget } from './dev/build.js';
import { onInterrupt } from './dev/processes.js';
import { startStaticServer } from './dev/static-server.js';
import { projectRoot, startLocalWorker } from './dev/worker.js';
import { localOpenAiVars, LOCAL_OPENAI_API_KEY } from './realtime/local-key.js';
import { startLocalRealtime } from './realtime/server.js';
import { startLocalSfu } from './sfu/calls-server.js';
import { LOCAL_CALLS_APP_ID, LOCAL_CALLS_APP_SECRET, localCallsVars } from './sfu/local-app.js';

const WORKER_PORT = 8787;
const HOST_PAGE_PORT = 8788;
const SFU_PORT = 8789;
const REALTIME_PORT = 8790;
/** Passed to the Worker when set in the environment of `npm start`. */
const PASSED_THROUGH = [
  'WEBHOOK_URL',
  'WEBHOOK_SECRET',
  'FEEDBACK_URL',
  'USER_DIRECTORY_URL',
  'USER_DIRECTORY_TOKEN',
] as const;
const passedThrough = Object.fromEntries(
  PASSED_THROUGH.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])),
);

if (!buildWidget()) process.exit(1);

const sfu = await startLocalSfu({
  appId: LOCAL_CALLS_APP_ID,
  appSecret: LOCAL_CALLS_APP_SECRET,
  port: SFU_PORT,
});
const realtime = await startLocalRealtime({ apiKey: LOCAL_OPENAI_API_KEY, port: REALTIME_PORT });
const worker = await startLocalWorker({
  vars: { ...localCallsVars(sfu.callsApiUrl), ...localOpenAiVars(realtime.url), ...passedThrough },
  port: WORKER_PORT,
  inheritOutput: true,
  persistTo: join(projectRoot, '.wrangler/state'),
});
const hostPage = await startStaticServer(join(projectRoot, 'demo/host'), HOST_PAGE_PORT);

console.log(`
  Meetkit is running.
    Demo:                 ${worker.url}/?room=demo
    Widget:               ${worker.url}/meetkit.js  (classic script: ${worker.url}/meetkit.iife.js)
    Third-party page:     ${hostPage.url}/?room=demo  (embeds the widget from the other origin)
    Local SFU:            ${sfu.callsApiUrl}  (the Calls API; stats at ${sfu.url}/__local/stats)
    Local AI stand-in:    ${realtime.url}  (OpenAI Realtime: answers a turn with the caller's own words)
    From the environment: ${Object.keys(passedThrough).join(', ') || `none (set any of ${PASSED_THROUGH.join(', ')})`}
  Press Ctrl-C to stop.
`);

// Ctrl-C (or SIGTERM) stops the Worker, the host page and the SFU, then exits.
onInterrupt(async () => {
  await Promise.all([worker.stop(), hostPage.stop(), sfu.close(), realtime.close()]);
});
