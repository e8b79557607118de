/** Browser payload: each built bundle minified + brotli, as a CDN would serve it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { projectRoot } from '../server/local/dev/worker.js';

export interface BundleSize {
  file: string;
  rawBytes: number;
  brotliBytes: number;
}

export function bundleSizes(files = ['meetkit.js', 'meetkit.iife.js']): BundleSize[] {
  return files.map((file) => {
    const source = readFileSync(join(projectRoot, 'dist', file));
    const brotli = brotliCompressSync(source, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
    return { file, rawBytes: source.byteLength, brotliBytes: brotli.byteLength };
  });
}
