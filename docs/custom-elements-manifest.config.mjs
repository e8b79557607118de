/**
 * The Custom Elements Manifest of Meetkit's elements, from their JSDoc:
 * `npm run build` writes it to dist/custom-elements.json, served beside
 * meetkit.js; tests/docs/ checks the README's element reference against it.
 */
export default {
  globs: ['src/elements/**/*.ts'],
  exclude: ['**/*.styles.ts', '**/*.test-support.ts'],
  outdir: 'dist',
  packagejson: false,
};
