import { minifyHTMLLiterals } from 'minify-literals';
import { defineConfig } from 'vite';

/**
 * Builds the widget for `<script>` use: `dist/meetkit.js` (ES module) and
 * `dist/meetkit.iife.js` (classic script), each self-registering with every
 * dependency bundled. `demo/` is copied as is: the Worker serves `dist/`.
 * (`npm run build` then adds the npm package's unbundled modules in
 * `dist/lib/` and the Custom Elements Manifest.)
 *
 * The ES build is split. `meetkit.js` holds only the registrations and
 * exports; what the lobby needs is one chunk it imports, and the elements
 * the lobby does without (`<meet-room>`'s lazy dependencies) one chunk loaded
 * right after. Chunks live in `meetkit-chunks/`, so the Worker serves them
 * with the widget's CORS headers, and are imported relative to the script,
 * so they come from the Meetkit server whatever page loads it. The entry is
 * kept that small so the chunks never import it: a page that loads
 * `meetkit.js?v=2` would otherwise run it twice, and the meeting's elements
 * would take their context keys from the second copy, not the lobby's. The
 * classic build cannot load chunks: it stays one file.
 */
const isEntry = (id: string) => id.endsWith('/src/meetkit.ts');

export default defineConfig({
  publicDir: 'demo',
  plugins: [
    {
      // Lit's css`` and html`` templates are strings the JS minifier leaves alone (the elements'
      // own, and the theme tokens every element shares).
      name: 'meetkit-minify-templates',
      async transform(code, id) {
        if (!/\/src\/(elements|styles)\/.*\.ts$/.test(id)) return null;
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
      output: [
        {
          format: 'es',
          minify: true,
          // Tree-shaking hints (`/* @__PURE__ */`) are for a bundler; this build goes to browsers as is
          // (the classic one drops them too). Bundlers get `dist/lib/`.
          comments: { annotation: false },
          chunkFileNames: 'meetkit-chunks/[name]-[hash].js',
          codeSplitting: {
            groups: [
              // Everything the entry imports statically, except the entry itself.
              { name: 'lobby', tags: ['$initial'], test: (id) => !isEntry(id) },
              // The rest, loaded all at once right after: one request, not one per element.
              { name: 'meeting', test: (id) => !isEntry(id) },
            ],
          },
        },
        { format: 'iife', name: 'Meetkit', minify: true },
      ],
    },
    lib: {
      entry: 'src/meetkit.ts',
      fileName: (format) => (format === 'es' ? 'meetkit.js' : 'meetkit.iife.js'),
    },
  },
});
