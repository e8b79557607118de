/**
 * `npm test`: every suite, offline, with its own set-up. Finds Chromium
 * (CHROME_PATH, else /usr/bin/chromium) and installs Debian's package when it
 * can; builds the widget; runs the room server tests (workerd), the browser
 * tests (Chromium) and the end-to-end tests; prints one summary line.
 * `npm test -- server e2e` runs only the suites named.
 *
 * A run also fails when a test was skipped, left as todo or focused with
 * `.only`, and when a suite ran far fewer tests than before: fewer than 90%
 * of its last clean run on this machine, or fewer than its committed floor
 * (tests/minimum-counts.json, which is what a fresh clone, e.g. CI, has).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { buildWidget } from '../server/local/dev/build.js';
import { chromiumPath, DEFAULT_CHROMIUM } from '../server/local/dev/chromium.js';
import { projectRoot } from '../server/local/dev/worker.js';

const bin = (name: string) => join(projectRoot, 'node_modules/.bin', name);

/** Each suite's test count in its last clean run here; outside the committed tree. */
const LAST_COUNTS = join(projectRoot, 'node_modules/.cache/meetkit/test-counts.json');
/** The fewest tests each suite may run, committed. Lower it when removing tests on purpose. */
const MINIMUM_COUNTS = join(projectRoot, 'tests/minimum-counts.json');
/** A suite that runs fewer than this share of its last count has lost tests. */
const LAST_COUNT_SHARE = 0.9;

const SUITES = ['server', 'browser', 'e2e'] as const;
type SuiteName = (typeof SUITES)[number];
/** Where each suite's test files live, for the scan for skipped and focused tests. */
const SUITE_SOURCES: Record<SuiteName, string> = { server: 'server', browser: 'src', e2e: 'tests' };

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
  name: SuiteName;
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  ok: boolean;
  /** Why the suite fails although its tests may have passed. */
  problems: string[];
}

const reports = mkdtempSync(join(tmpdir(), 'meetkit-test-'));

function run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  console.log(`\n━━ ${name} ━━`);
  return spawnSync(command, args, { cwd: projectRoot, stdio: 'inherit', env: { ...process.env, ...env } });
}

function vitestSuite(name: SuiteName, config: string): SuiteResult {
  const report = join(reports, `${name}.json`);
  const result = run(name, bin('vitest'), [
    'run',
    '--config',
    config,
    // A forgotten `.only` fails its file instead of quietly skipping the rest.
    '--allowOnly=false',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
  ]);
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
      numTodoTests: number;
    };
    return {
      name,
      passed: json.numPassedTests,
      failed: json.numFailedTests,
      skipped: json.numPendingTests,
      todo: json.numTodoTests,
      ok: result.status === 0,
      problems: [],
    };
  } catch {
    return { name, passed: 0, failed: 1, skipped: 0, todo: 0, ok: false, problems: [] };
  }
}

function browserSuite(chrome: string): SuiteResult {
  const name = 'browser';
  const report = join(reports, 'browser.log');
  console.log(`\n━━ ${name} ━━`);
  // wtr prints "N passed, M failed[, K skipped]" in its progress line; read the last one.
  const result = spawnSync(
    'bash',
    ['-o', 'pipefail', '-c', `"${bin('web-test-runner')}" 2>&1 | tee "${report}"`],
    {
      cwd: projectRoot,
      stdio: 'inherit',
      env: { ...process.env, CHROME_PATH: chrome },
    },
  );
  // eslint-disable-next-line no-control-regex -- colour codes, should wtr print any
  const output = readFileSync(report, 'utf8').replace(/\u001b\[[0-9;]*m/g, '');
  const counts = [...output.matchAll(/(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/g)].at(-1);
  return {
    name,
    passed: counts ? Number(counts[1]) : 0,
    failed: counts ? Number(counts[2]) : 1,
    skipped: counts?.[3] ? Number(counts[3]) : 0,
    // Mocha has no todo tests; `it('name')` without a body counts as skipped.
    todo: 0,
    ok: result.status === 0,
    problems: [],
  };
}

/**
 * Skipped and focused tests written into a suite's sources: a second line of
 * defence for the browser suite, where a `.only` makes mocha drop the other
 * tests of its file without a word.
 */
function markedTests(suite: SuiteName): string[] {
  const marker = /\.(only|skip|skipIf|runIf|todo)\(|\bx(it|describe)\(/;
  const found: string[] = [];
  const root = join(projectRoot, SUITE_SOURCES[suite]);
  for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.test.ts') || file.includes('node_modules')) continue;
    const path = join(root, file);
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if (marker.test(line)) found.push(`${relative(projectRoot, path)}:${index + 1}: ${line.trim()}`);
      });
  }
  return found;
}

function readCounts(path: string): Partial<Record<SuiteName, number>> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Partial<Record<SuiteName, number>>;
  } catch {
    return {};
  }
}

/** Adds to each result what it skipped, left to do, focused or lost since last time. */
function checkCompleteness(results: SuiteResult[]): void {
  const last = readCounts(LAST_COUNTS);
  const minimum = readCounts(MINIMUM_COUNTS);
  for (const result of results) {
    const ran = result.passed + result.failed;
    if (result.skipped) result.problems.push(`${result.skipped} skipped`);
    if (result.todo) result.problems.push(`${result.todo} todo`);
    for (const line of markedTests(result.name)) result.problems.push(`skipped or focused in ${line}`);
    const floor = minimum[result.name];
    if (floor !== undefined && ran < floor) {
      result.problems.push(
        `ran ${ran} tests, fewer than its floor of ${floor} (${relative(projectRoot, MINIMUM_COUNTS)})`,
      );
    }
    const before = last[result.name];
    if (before !== undefined && ran < before * LAST_COUNT_SHARE) {
      result.problems.push(
        `ran ${ran} tests, fewer than ${LAST_COUNT_SHARE * 100}% of the ${before} it ran last time` +
          ` (removed on purpose? delete ${relative(projectRoot, LAST_COUNTS)})`,
      );
    }
  }
  // Only a clean run sets the count the next one is held to.
  const clean = results.filter((r) => r.ok && r.failed === 0 && r.problems.length === 0);
  if (clean.length === 0) return;
  for (const r of clean) last[r.name] = r.passed;
  mkdirSync(dirname(LAST_COUNTS), { recursive: true });
  writeFileSync(LAST_COUNTS, `${JSON.stringify(last, null, 2)}\n`);
}

const selected = process.argv.slice(2);
for (const name of selected) {
  if (!(SUITES as readonly string[]).includes(name))
    fail(`no suite "${name}"; the suites are ${SUITES.join(', ')}`);
}
const runs = (suite: SuiteName) => selected.length === 0 || selected.includes(suite);

const chrome = runs('browser') || runs('e2e') ? ensureChromium() : '';
console.log('\n━━ build ━━');
if (!buildWidget()) fail('the build failed');

const results: SuiteResult[] = [];
if (runs('server')) results.push(vitestSuite('server', 'server/vitest.config.ts'));
if (runs('browser')) results.push(browserSuite(chrome));
if (runs('e2e')) results.push(vitestSuite('e2e', 'tests/vitest.config.ts'));
rmSync(reports, { recursive: true, force: true });
checkCompleteness(results);

console.log('\n━━ summary ━━');
for (const r of results) {
  const good = r.ok && r.failed === 0 && r.problems.length === 0;
  const extra = `${r.skipped ? `, ${r.skipped} skipped` : ''}${r.todo ? `, ${r.todo} todo` : ''}`;
  console.log(`  ${good ? '✓' : '✗'} ${r.name.padEnd(8)} ${r.passed} passed, ${r.failed} failed${extra}`);
  for (const problem of r.problems) console.log(`      ✗ ${problem}`);
}
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed =
  results.reduce((n, r) => n + r.failed, 0) + results.filter((r) => !r.ok && r.failed === 0).length;
const problems = results.reduce((n, r) => n + r.problems.length, 0);
console.log(`${passed} passed, ${failed} failed${problems ? `, ${problems} completeness problems` : ''}`);
process.exit(failed === 0 && problems === 0 && results.every((r) => r.ok) ? 0 : 1);
