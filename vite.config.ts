import { minifyHTMLLiterals } from 'minify-literals';
import { defineConfig } from 'vite';

/**
 * Builds the widget for `<script>` use: `dist/meetkit.js` (ES module) and
 * `dist/meetkit.iife.js` (classic script), each self-registering with every
 * dependency bundled. `demo/` is copied as is: the Worker serves `dist/`.
 * (`npm run build` then adds the npm package's unbundled modules in
 * `dist/lib/` and the Custom Elements Manifest.)
 */
export default defineConfig({
  publicDir: 'demo',
  plugins: [
    {
      // Lit's css`` and html`` templates are strings the JS minifier leaves alone.
      name: 'meetkit-minify-templates',
      async transform(code, id) {
        if (!/\/src\/elements\/.*\.ts$/.test(id)) return null;
        return (await minifyHTMLLiterals(code, { fileName: id })) ?? null;
      },
    },
    {
      // dist/ is also the Worker's static assets: the npm package's files (dist/lib/) are not served.
      name: 'meetkit-assets-ignore',
      generateBundle() {
        this.emitFile({ type: 'asset', fileName: '.assetsignore', source: 'lib/\n' });
      },
    },
  ],
  resolve: {
    // rxjs ships an ES2015 build beside its ES5 one: native classes, no tslib helpers, smaller.
    conditions: ['es2015', 'module', 'browser', 'production'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // Library mode leaves the ES build unminified by default; this one ships to browsers as is.
    minify: true,
    rolldownOptions: {
      // The classic build finds its origin through document.currentScript instead.
      checks: { emptyImportMeta: false },
      output: { minify: true },
    },
    lib: {
      entry: 'src/meetkit.ts',
      name: 'Meetkit',
      formats: ['es', 'iife'],
      fileName: (format) => (format === 'es' ? 'meetkit.js' : 'meetkit.iife.js'),
    },
  },
});
