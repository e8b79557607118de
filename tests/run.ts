/**
 * `npm test`: every suite, offline, with its own set-up. Finds Chromium
 * (CHROME_PATH, else /usr/bin/chromium) and installs Debian's package when it
 * can; builds the widget; runs the room server tests (workerd), the browser
 * tests (Chromium) and the end-to-end tests; prints one summary line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWidget } from '../server/local/dev/build.js';
import { chromiumPath, DEFAULT_CHROMIUM } from '../server/local/dev/chromium.js';
import { projectRoot } from '../server/local/dev/worker.js';

const bin = (name: string) => join(projectRoot, 'node_modules/.bin', name);

function ensureChromium(): string {
  const found = chromiumPath();
  if (found) return found;
  if (process.env.CHROME_PATH) {
    fail(`CHROME_PATH is set to ${process.env.CHROME_PATH}, which does not exist.`);
  }
  const canApt = process.getuid?.() === 0 && spawnSync('which', ['apt-get']).status === 0;
  if (!canApt) {
    fail(
      `Chromium is needed for the browser tests and was not found at ${DEFAULT_CHROMIUM}.\n` +
        '  Debian/Ubuntu: sudo apt-get install chromium\n' +
        '  Elsewhere: install Chromium or Chrome and set CHROME_PATH=/path/to/chrome',
    );
  }
  console.log("Chromium not found: installing Debian's chromium package (about a minute)…");
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
    const result = spawnSync('apt-get', args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) fail(`apt-get ${args.join(' ')} failed`);
  }
  return chromiumPath() ?? fail(`apt-get installed chromium but ${DEFAULT_CHROMIUM} is still missing`);
}

function fail(message: string): never {
  console.error(`\nnpm test: ${message}`);
  process.exit(1);
}

interface SuiteResult {
  name: string;
  passed: number;
  failed: number;
  ok: boolean;
}

const reports = mkdtempSync(join(tmpdir(), 'meetkit-test-'));

function run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  console.log(`\n━━ ${name} ━━`);
  return spawnSync(command, args, { cwd: projectRoot, stdio: 'inherit', env: { ...process.env, ...env } });
}

function vitestSuite(name: string, config: string): SuiteResult {
  const report = join(reports, `${name}.json`);
  const result = run(name, bin('vitest'), [
    'run',
    '--config',
    config,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
  ]);
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
    };
    return { name, passed: json.numPassedTests, failed: json.numFailedTests, ok: result.status === 0 };
  } catch {
    return { name, passed: 0, failed: 1, ok: false };
  }
}

function browserSuite(chrome: string): SuiteResult {
  const name = 'browser';
  const report = join(reports, 'browser.log');
  console.log(`\n━━ ${name} ━━`);
  // wtr prints "N passed, M failed" in its progress line; read the last one from its output.
  const result = spawnSync(
    'bash',
    ['-o', 'pipefail', '-c', `"${bin('web-test-runner')}" 2>&1 | tee "${report}"`],
    {
      cwd: projectRoot,
      stdio: 'inherit',
      env: { ...process.env, CHROME_PATH: chrome },
    },
  );
  const counts = [...readFileSync(report, 'utf8').matchAll(/(\d+) passed, (\d+) failed/g)].at(-1);
  return {
    name,
    passed: counts ? Number(counts[1]) : 0,
    failed: counts ? Number(counts[2]) : 1,
    ok: result.status === 0,
  };
}

const chrome = ensureChromium();
console.log('\n━━ build ━━');
if (!buildWidget()) fail('the build failed');

const results: SuiteResult[] = [
  vitestSuite('server', 'server/vitest.config.ts'),
  browserSuite(chrome),
  vitestSuite('e2e', 'tests/vitest.config.ts'),
];
rmSync(reports, { recursive: true, force: true });

console.log('\n━━ summary ━━');
for (const r of results)
  console.log(`  ${r.ok ? '✓' : '✗'} ${r.name.padEnd(8)} ${r.passed} passed, ${r.failed} failed`);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed =
  results.reduce((n, r) => n + r.failed, 0) + results.filter((r) => !r.ok && r.failed === 0).length;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && results.every((r) => r.ok) ? 0 : 1);
