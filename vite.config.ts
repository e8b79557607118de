import { defineConfig } from 'vite';

/**
 * Builds the widget for `<script>` use: `dist/meetkit.js` (ES module) and
 * `dist/meetkit.iife.js` (classic script), each self-registering with every
 * dependency bundled. `demo/` is copied as is: the Worker serves `dist/`.
 */
export default defineConfig({
  publicDir: 'demo',
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
