/** `vite build` of the widget into `dist/`, for `npm start`, `npm test` and `npm run bench`. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './worker.js';

/** Builds synchronously with vite's output on this terminal; true when it succeeded. */
export function buildWidget({ quiet = false } = {}): boolean {
  const result = spawnSync(process.execPath, [join(projectRoot, 'node_modules/vite/bin/vite.js'), 'build'], {
    cwd: projectRoot,
    stdio: quiet ? 'ignore' : 'inherit',
  });
  return result.status === 0;
}
