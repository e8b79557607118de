// Element, client and protocol tests in real Chromium, against the real Worker.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { tsImport } from 'tsx/esm/api';

// The same TypeScript helpers as the other suites, loaded without a global loader.
const { chromiumArgs, findChromium } = await tsImport('./tests/support/chromium.ts', import.meta.url);
const { startLocalWorker } = await tsImport('./tests/support/local-worker.ts', import.meta.url);

/** A test secret for the second Worker, which requires join tokens. */
const JOIN_SECRET = 'element-tests-secret-long-enough-for-hs256';

/** Starts an open Worker and a token-protected one; tests ask the dev server for their URLs. */
function localWorkersPlugin() {
  let open;
  let secured;
  return {
    name: 'meetkit-local-workers',
    async serverStart() {
      [open, secured] = await Promise.all([startLocalWorker(), startLocalWorker({ vars: { JOIN_SECRET } })]);
    },
    async serverStop() {
      await Promise.all([open?.stop(), secured?.stop()]);
    },
    serve(context) {
      if (context.path === '/__meetkit__/workers.json') {
        return { body: JSON.stringify({ open: open.url, secured: secured.url }), type: 'json' };
      }
    },
  };
}

export default {
  files: ['src/**/*.test.ts'],
  nodeResolve: { exportConditions: ['production'] },
  concurrency: 2,
  testsFinishTimeout: 180_000,
  testFramework: { config: { timeout: 10_000 } },
  plugins: [esbuildPlugin({ ts: true, tsconfig: 'tsconfig.json', target: 'es2022' }), localWorkersPlugin()],
  browsers: [
    playwrightLauncher({
      product: 'chromium',
      launchOptions: { executablePath: findChromium(), args: chromiumArgs({ media: true }) },
      createBrowserContext: ({ browser }) => browser.newContext({ permissions: ['camera', 'microphone'] }),
    }),
  ],
};
