/**
 * `npm start`: builds the widget, runs the Worker under `wrangler dev` on
 * 127.0.0.1:8787 (demo at /, widget at /meetkit.js), and serves a
 * "third-party" host page on 127.0.0.1:8788 that embeds it from the other
 * origin. Ctrl-C stops everything it started.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot, startLocalWorker } from '../../tests/support/local-worker.js';
import { startStaticServer } from '../../tests/support/static-server.js';

const WORKER_PORT = 8787;
const HOST_PAGE_PORT = 8788;

const build = spawnSync(process.execPath, [join(projectRoot, 'node_modules/vite/bin/vite.js'), 'build'], {
  cwd: projectRoot,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

const worker = await startLocalWorker({
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
  Press Ctrl-C to stop.
`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await Promise.all([worker.stop(), hostPage.stop()]);
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
