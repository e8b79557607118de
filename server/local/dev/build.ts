/**
 * `npm run build` (the widget, the npm package's modules and the element
 * manifest, all in `dist/`), for `npm start`, `npm test` and `npm run bench`.
 */
import { spawnSync } from 'node:child_process';
import { projectRoot } from './worker.js';

/** Builds synchronously, with the output on this terminal unless `quiet`; true when it succeeded. */
export function buildWidget({ quiet = false } = {}): boolean {
  const result = spawnSync('npm', ['run', '--silent', 'build'], {
    cwd: projectRoot,
    stdio: quiet ? 'ignore' : 'inherit',
  });
  return result.status === 0;
}
