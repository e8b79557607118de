/**
 * The npm package as a bundler user gets it: `npm pack`, installed into an
 * app's node_modules, imported through its `exports` (the elements, the
 * headless core), bundled with Vite and type-checked with tsc. Needs
 * `npm run build` first (`npm test` builds).
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Rollup } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/local/dev/worker.js';

const app = mkdtempSync(join(tmpdir(), 'meetkit-app-'));
const modules = join(app, 'node_modules');

beforeAll(() => {
  if (!existsSync(join(projectRoot, 'dist/lib/core.js'))) throw new Error('Build first: npm run build');
  // The app's dependencies: the project's own installs stand in for npm install.
  mkdirSync(modules);
  for (const name of readdirSync(join(projectRoot, 'node_modules'))) {
    if (name.startsWith('.') || name === 'meetkit') continue;
    symlinkSync(join(projectRoot, 'node_modules', name), join(modules, name));
  }
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', app], {
      cwd: projectRoot,
      encoding: 'utf8',
    }),
  ) as { filename: string }[];
  mkdirSync(join(modules, 'meetkit'));
  execFileSync('tar', [
    '-xzf',
    join(app, packed!.filename),
    '-C',
    join(modules, 'meetkit'),
    '--strip-components=1',
  ]);
}, 120_000);
afterAll(() => rmSync(app, { recursive: true, force: true }));

/** Bundles `source` as an app would, and returns the code of its chunks. */
async function bundle(source: string): Promise<string> {
  const entry = join(app, `entry-${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(entry, source);
  const output = (await build({
    configFile: false,
    logLevel: 'silent',
    root: app,
    build: { write: false, minify: false, lib: { entry, formats: ['es'], fileName: 'app' } },
  })) as Rollup.RollupOutput[];
  return output
    .flatMap((o) => o.output)
    .map((chunk) => (chunk.type === 'chunk' ? chunk.code : ''))
    .join('\n');
}

describe('the npm package', () => {
  it('ships the unbundled modules with declarations, the script builds and the manifest, nothing else', () => {
    const files = execFileSync('npm', ['pack', '--dry-run', '--json'], {
      cwd: projectRoot,
      encoding: 'utf8',
    });
    const paths = (JSON.parse(files) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/lib/meetkit.js',
        'dist/lib/meetkit.d.ts',
        'dist/lib/core.js',
        'dist/lib/core.d.ts',
        'dist/lib/client/meeting.js',
        'dist/lib/elements/meet-room/meet-room.js',
        'dist/meetkit.js',
        'dist/meetkit.iife.js',
        'dist/custom-elements.json',
      ]),
    );
    // The chunks that dist/meetkit.js imports, or the script build would not run from the package.
    const chunks = readdirSync(join(projectRoot, 'dist/meetkit-chunks')).map(
      (f) => `dist/meetkit-chunks/${f}`,
    );
    expect(chunks.filter((chunk) => chunk.endsWith('.js'))).not.toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(chunks));
    expect(paths.filter((p) => /test|\/test-support\/|^server\/|^src\/|demo/.test(p))).toEqual([]);
  });

  it('splits the module script so that its chunks never import meetkit.js', () => {
    // A page may load meetkit.js?v=2: a chunk importing "../meetkit.js" would run a second copy.
    const dir = join(projectRoot, 'dist/meetkit-chunks');
    const chunks = readdirSync(dir).filter((file) => file.endsWith('.js'));
    expect(chunks.map((file) => file.replace(/-[\w-]+\.js$/, '')).sort()).toEqual(['lobby', 'meeting']);
    for (const file of chunks) expect(readFileSync(join(dir, file), 'utf8'), file).not.toMatch(/meetkit\.js/);
  });

  it('gives a bundler the headless core without Lit', async () => {
    const code = await bundle(
      "import { createMeeting } from 'meetkit/core';\nexport const start = (room) => createMeeting({ server: 'https://meet.example', room });\n",
    );
    expect(code).toContain('function createMeeting');
    expect(code).not.toMatch(/LitElement|customElements\.define/);
  });

  it('gives a bundler the elements, registered by importing the package', async () => {
    const code = await bundle("import { MeetRoom } from 'meetkit';\nexport { MeetRoom };\n");
    expect(code).toMatch(/\bMeetRoom\b/);
    expect(code).toMatch(/defineElement\(["']meet-room["'], MeetRoom\)/);
  });

  it('types what it exports, for a TypeScript app', () => {
    writeFileSync(
      join(app, 'app.ts'),
      [
        "import { createMeeting, type Meeting, type MeetingPhase } from 'meetkit/core';",
        "import type { MeetRoom } from 'meetkit';",
        "const meeting: Meeting = createMeeting({ server: 'https://meet.example', room: 'standup' });",
        'meeting.phase$.subscribe((phase: MeetingPhase) => console.log(phase));',
        "const room = document.querySelector('meet-room') as MeetRoom | null;",
        "room?.addEventListener('meet-participant-joined', (e) => console.log(e.detail.participant.name));",
        '// @ts-expect-error: a meeting needs a room',
        "createMeeting({ server: 'https://meet.example' });",
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ['app.ts'],
      }),
    );
    execFileSync(process.execPath, [join(projectRoot, 'node_modules/typescript/bin/tsc'), '-p', app], {
      cwd: app,
      encoding: 'utf8',
    });
  }, 60_000);
});
