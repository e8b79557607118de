/**
 * The README's element reference is generated from the Custom Elements
 * Manifest (`cem analyze --litelement`, what `npm run build` ships as
 * dist/custom-elements.json), which is made from the elements' JSDoc.
 * This test fails when the README and the JSDoc disagree; `npm run docs`
 * rewrites the README's marked blocks. It also checks that the JSDoc is
 * complete: every part an element renders, every event it fires and every
 * `--meet-*` property its styles read is documented.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import * as prettier from 'prettier';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const readmePath = join(root, 'README.md');

/** The parts of the manifest schema read here. */
interface Described {
  name: string;
  description?: string;
}
interface Member extends Described {
  kind: 'field' | 'method';
  type?: { text: string };
  default?: string;
  privacy?: 'public' | 'protected' | 'private';
  static?: boolean;
  attribute?: string;
  reflects?: boolean;
  parameters?: { name: string; optional?: boolean; default?: string }[];
}
interface Declaration extends Described {
  kind: string;
  tagName?: string;
  customElement?: boolean;
  members?: Member[];
  events?: Described[];
  slots?: Described[];
  cssParts?: Described[];
  cssProperties?: Described[];
}
interface Manifest {
  modules: { path: string; declarations?: Declaration[] }[];
}

const out = mkdtempSync(join(tmpdir(), 'meetkit-cem-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The manifest as `npm run build` makes it (docs/custom-elements-manifest.config.mjs), written to a temporary folder. */
function analyze(): Manifest {
  const cem = join(root, 'node_modules/@custom-elements-manifest/analyzer/cem.js');
  // The analyzer joins --outdir to the working directory.
  execFileSync(
    process.execPath,
    [
      cem,
      'analyze',
      '--litelement',
      '--quiet',
      '--config',
      'docs/custom-elements-manifest.config.mjs',
      '--outdir',
      relative(root, out),
    ],
    {
      cwd: root,
      stdio: 'pipe',
    },
  );
  return JSON.parse(readFileSync(join(out, 'custom-elements.json'), 'utf8')) as Manifest;
}

const manifest = analyze();
const elements = manifest.modules.flatMap((module) =>
  (module.declarations ?? [])
    .filter((declaration) => declaration.customElement && declaration.tagName)
    .map((declaration) => ({ ...declaration, tagName: declaration.tagName!, path: module.path })),
);
type Element = (typeof elements)[number];

/** Markdown table cell: one line, pipes escaped. */
const cell = (text = '') => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
const code = (text: string) => `\`${text}\``;

function table(title: string, header: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [`**${title}**`, '', line(header), line(header.map(() => '-')), ...rows.map(line), ''].join('\n');
}

/** What the page uses: public instance members (a subclass's override replaces the inherited one). */
const publicMembers = (element: Element) =>
  (element.members ?? []).filter(
    (member) => !member.static && (member.privacy ?? 'public') === 'public' && !member.name.startsWith('#'),
  );

/** The reference of one element, as the README holds it between its markers. */
function reference(element: Element): string {
  const members = publicMembers(element);
  const fields = members.filter((member) => member.kind === 'field');
  const attributes = fields
    .filter((field) => field.attribute)
    .map((field) => [
      `${code(field.attribute!)}${field.reflects ? ' (reflected)' : ''}`,
      code(field.name),
      field.type ? code(field.type.text) : '',
      field.default ? code(field.default) : '',
      field.description ?? '',
    ]);
  const properties = fields
    .filter((field) => !field.attribute)
    .map((field) => [code(field.name), field.type ? code(field.type.text) : '', field.description ?? '']);
  const methods = members
    .filter((member) => member.kind === 'method')
    .map((method) => {
      const parameters = (method.parameters ?? []).map(
        (p) => `${p.name}${p.optional || p.default !== undefined ? '?' : ''}`,
      );
      return [code(`${method.name}(${parameters.join(', ')})`), method.description ?? ''];
    });
  const named = (items: Described[] | undefined, header: string, title: string, name = code) =>
    table(
      title,
      [header, 'description'],
      (items ?? []).map((item) => [name(item.name), item.description ?? '']),
    );
  return [
    table('Attributes', ['attribute', 'property', 'type', 'default', 'description'], attributes),
    table('Properties', ['property', 'type', 'description'], properties),
    table('Methods', ['method', 'description'], methods),
    named(element.events, 'event', 'Events'),
    named(element.slots, 'slot', 'Slots', (name) => (name ? code(name) : '(default)')),
    named(element.cssParts, 'part', 'CSS parts'),
    named(element.cssProperties, 'property', 'CSS custom properties'),
  ]
    .filter(Boolean)
    .join('\n');
}

const block = /(<!-- element-reference ([a-z-]+) -->\n)([\s\S]*?)(<!-- \/element-reference -->)/g;

/** The README with every marked block made from the manifest, formatted as Prettier would. */
async function expectedReadme(readme: string): Promise<string> {
  const byTag = new Map(elements.map((element) => [element.tagName, element]));
  const generated = readme.replace(block, (_, open: string, tag: string, _old, close: string) => {
    const element = byTag.get(tag);
    const body = element ? reference(element) : `Nothing in the manifest is called <${tag}>.\n`;
    return `${open}\n${body}\n${close}`;
  });
  const options = await prettier.resolveConfig(readmePath);
  return prettier.format(generated, { ...options, filepath: readmePath });
}

const source = (path: string) => readFileSync(join(root, path), 'utf8');
/**
 * An element's code: its module and the modules beside it that render into
 * it (`<meet-room>`'s lobby preview and meeting layout), or, with `styles`,
 * the style modules. Tests are left out.
 */
const folderOf = (path: string, styles: boolean) => {
  const folder = dirname(path);
  return readdirSync(join(root, folder))
    .filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && file.endsWith('.styles.ts') === styles,
    )
    .map((file) => source(join(folder, file)))
    .join('\n');
};

describe('README element reference', () => {
  it('has a generated block for every element, and only for elements', () => {
    const blocks = [...source('README.md').matchAll(block)].map((match) => match[2]);
    expect(blocks.sort()).toEqual(elements.map((element) => element.tagName).sort());
  });

  it('matches the JSDoc (npm run docs rewrites it)', async () => {
    const readme = source('README.md');
    await expect(await expectedReadme(readme)).toMatchFileSnapshot(readmePath);
  });

  it('lists every meet-* event of the typed map in its events table', () => {
    const map = source('src/events/meet-events.ts');
    const typed = [
      ...map.slice(map.indexOf('interface MeetEventDetails')).matchAll(/^ {2}'(meet-[a-z-]+)':/gm),
    ];
    const events = source('README.md').slice(source('README.md').indexOf('<!-- meet-events -->'));
    const listed = [
      ...events.slice(0, events.indexOf('\n\n', events.indexOf('| ---'))).matchAll(/^\| `(meet-[a-z-]+)`/gm),
    ];
    expect(listed.map((m) => m[1]).sort()).toEqual(typed.map((m) => m[1]).sort());
  });
});

describe('element JSDoc', () => {
  it('names each element as meetkit.ts registers it, itself or as what <meet-room> loads later', () => {
    const registered = [
      ...source('src/meetkit.ts').matchAll(/defineElement\('([a-z-]+)', (\w+)\)/g),
      ...source('src/elements/meet-room/meet-room.ts').matchAll(
        /'([a-z-]+)': \(\) =>\s*import\('[^']+'\)\.then\(\(m\) => m\.(\w+)\)/g,
      ),
    ];
    expect(registered.map(([, tag, name]) => `${tag} ${name}`).sort()).toEqual(
      elements.map((element) => `${element.tagName} ${element.name}`).sort(),
    );
  });

  it('describes every element and every public attribute, property and method', () => {
    const undescribed = elements.flatMap((element) => [
      ...(element.description ? [] : [element.tagName]),
      ...publicMembers(element)
        .filter((member) => !member.description)
        .map((member) => `${element.tagName} ${member.name}`),
    ]);
    expect(undescribed).toEqual([]);
  });

  it('documents every event an element fires, all of them in MeetEventDetails', () => {
    const typed = source('src/events/meet-events.ts');
    for (const element of elements) {
      const fired = [...source(element.path).matchAll(/dispatchMeetEvent\(\s*this,\s*'([a-z-]+)'/g)].map(
        (m) => m[1],
      );
      const documented = (element.events ?? []).map((event) => event.name);
      expect(documented, element.tagName).toEqual(expect.arrayContaining(fired));
      for (const name of documented) expect(typed, `${element.tagName} ${name}`).toContain(`'${name}':`);
    }
  });

  it('documents every part an element renders', () => {
    const undocumented = elements.flatMap((element) => {
      const template = folderOf(element.path, false);
      // Static part names, and the quoted names of conditional ones (part=${a ? 'x y' : 'x'}).
      const written = [
        ...[...template.matchAll(/\bpart="([^"]*)"/g)].map((m) => m[1]!.replace(/\$\{[^}]*\}/g, '')),
        ...[...template.matchAll(/\bpart=\$\{([^}]*)\}/g)].flatMap((m) =>
          [...m[1]!.matchAll(/'([^']*)'/g)].map((q) => q[1]!),
        ),
      ];
      const names = new Set(written.flatMap((parts) => parts.split(/\s+/)).filter(Boolean));
      const documented = new Set((element.cssParts ?? []).map((part) => part.name));
      return [...names].filter((name) => !documented.has(name)).map((name) => `${element.tagName} ${name}`);
    });
    expect(undocumented).toEqual([]);
  });

  it('documents every --meet-* property an element reads besides the theme tokens', () => {
    // Read by themeStyles and controlStyles, for every element alike: the README's styling table lists them.
    const theme = new Set(
      [...source('src/styles/tokens.ts').matchAll(/var\((--meet-[a-z0-9-]+)/g)].map((m) => m[1]),
    );
    const undocumented = elements.flatMap((element) => {
      const styles = folderOf(element.path, true);
      const read = new Set(styles.match(/--meet-[a-z0-9-]+/g));
      const documented = new Set((element.cssProperties ?? []).map((property) => property.name));
      return [...read]
        .filter((name) => !documented.has(name) && !theme.has(name))
        .map((name) => `${element.tagName} ${name}`);
    });
    expect(undocumented).toEqual([]);
  });
});
