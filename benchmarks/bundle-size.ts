/**
 * Browser payload: the files of each script build, minified + brotli, each
 * compressed on its own as a CDN would serve it. The ES build is split: the
 * lobby is interactive once `meetkit.js` and the chunks it imports
 * statically have run; the chunks imported dynamically come after.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { build, type Rolldown } from 'vite';
import { projectRoot } from '../server/local/dev/worker.js';

/**
 * The budget (README, Benchmarks), in bytes: the 40 KB and 60 KB,
 * read strictly (1 KB = 1,000 B). The classic script, one file, counts as
 * everything.
 */
export const BUDGET_BYTES = { lobby: 40_000, everything: 60_000 };

export interface FileSize {
  file: string;
  rawBytes: number;
  brotliBytes: number;
}

export interface Payload {
  files: string[];
  rawBytes: number;
  brotliBytes: number;
}

/** What one file is made of: its brotli bytes shared out by each part's share of its minified bytes. */
export interface Makeup {
  file: string;
  parts: { name: string; minifiedBytes: number; brotliBytesEstimate: number }[];
}

export interface BundleReport {
  files: FileSize[];
  /** ES build: `meetkit.js` and what it imports statically. */
  lobby: Payload;
  /** ES build: every file, the dynamically imported ones too. */
  everything: Payload;
  /** The classic build, one file. */
  iife: Payload;
  makeup: Makeup[];
}

/**
 * Measures `dist/` (built by `npm run build`), with the chunk graph and the
 * source maps from the same Vite build made again in memory (file names
 * carry content hashes, so a stale `dist/` is noticed).
 */
export async function measureBundle(): Promise<BundleReport> {
  const outputs = (await build({
    root: projectRoot,
    logLevel: 'silent',
    build: { write: false },
  })) as Rolldown.RolldownOutput[];
  const chunks = new Map<string, Rolldown.OutputChunk>();
  for (const output of outputs)
    for (const item of output.output) if (item.type === 'chunk') chunks.set(item.fileName, item);

  const sizes = new Map<string, FileSize>();
  const sizeOf = (file: string): FileSize => {
    const known = sizes.get(file);
    if (known) return known;
    const path = join(projectRoot, 'dist', file);
    if (!existsSync(path))
      throw new Error(`dist/${file} is missing: dist/ is not this build (npm run build)`);
    const source = readFileSync(path);
    const brotli = brotliCompressSync(source, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
    const size = { file, rawBytes: source.byteLength, brotliBytes: brotli.byteLength };
    sizes.set(file, size);
    return size;
  };
  /** `entry` and the chunks it reaches, statically only or dynamically too. */
  const payload = (entry: string, dynamic: boolean): Payload => {
    const files = new Set<string>();
    const visit = (file: string) => {
      if (files.has(file)) return;
      files.add(file);
      const chunk = chunks.get(file);
      if (!chunk) throw new Error(`the build has no ${file}`);
      for (const next of dynamic ? [...chunk.imports, ...chunk.dynamicImports] : chunk.imports) visit(next);
    };
    visit(entry);
    const measured = [...files].map(sizeOf);
    return {
      files: [...files],
      rawBytes: measured.reduce((n, f) => n + f.rawBytes, 0),
      brotliBytes: measured.reduce((n, f) => n + f.brotliBytes, 0),
    };
  };

  const lobby = payload('meetkit.js', false);
  const everything = payload('meetkit.js', true);
  const iife = payload('meetkit.iife.js', true);
  const makeup = everything.files.map((file) => makeupOf(chunks.get(file)!, sizeOf(file).brotliBytes));
  return { files: [...sizes.values()], lobby, everything, iife, makeup };
}

/** Shares out a chunk's brotli bytes over packages and source folders, by minified bytes. */
function makeupOf(chunk: Rolldown.OutputChunk, brotliBytes: number): Makeup {
  const parts = new Map<string, number>();
  if (chunk.map) {
    for (const [source, bytes] of bytesPerSource(chunk.code, chunk.map)) {
      const name = partOf(source);
      parts.set(name, (parts.get(name) ?? 0) + bytes);
    }
  }
  const total = chunk.code.length;
  return {
    file: chunk.fileName,
    parts: [...parts]
      .map(([name, minifiedBytes]) => ({
        name,
        minifiedBytes,
        brotliBytesEstimate: Math.round((minifiedBytes / total) * brotliBytes),
      }))
      .sort((a, b) => b.minifiedBytes - a.minifiedBytes),
  };
}

/** An npm package, or what is directly in `src/` or `src/elements/` (`src/client`, `src/elements/meet-room`, `src/define.ts`). */
function partOf(source: string | null): string {
  if (source === null) return '(bundler code)';
  const npm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (npm) return npm[1]!;
  const local = /src\/(?:elements\/)?[^/]+/.exec(source);
  return local ? local[0] : source;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Generated characters per source file, from a source map's mappings; unmapped code under null. */
function bytesPerSource(code: string, map: Rolldown.SourceMap): Map<string | null, number> {
  const lines = code.split('\n');
  const bytes = new Map<string | null, number>();
  const add = (source: string | null, n: number) => bytes.set(source, (bytes.get(source) ?? 0) + n);
  let source = 0; // Source indexes are relative to the previous segment's, across lines.
  map.mappings.split(';').forEach((mappings, row) => {
    const line = lines[row] ?? '';
    const segments: { column: number; source: string | null }[] = [];
    let column = 0; // Columns are relative within a line.
    for (const segment of mappings.split(',')) {
      if (!segment) continue;
      const fields = decodeVlq(segment);
      column += fields[0]!;
      if (fields.length > 1) source += fields[1]!;
      segments.push({ column, source: fields.length > 1 ? (map.sources[source] ?? null) : null });
    }
    add(null, (segments[0]?.column ?? line.length) + 1); // Before the first segment, and the newline.
    segments.forEach((segment, i) =>
      add(segment.source, (segments[i + 1]?.column ?? line.length) - segment.column),
    );
  });
  return bytes;
}

function decodeVlq(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = shift = 0;
    }
  }
  return values;
}
