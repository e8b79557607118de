// Element, client and protocol tests in real Chromium, against the real Worker.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { tsImport } from 'tsx/esm/api';

// The same TypeScript helpers as the other suites, loaded without a global loader.
const { chromiumArgs, findChromium } = await tsImport('./server/local/dev/chromium.ts', import.meta.url);
const { startLocalWorker } = await tsImport('./server/local/dev/worker.ts', import.meta.url);
const { startLocalSfu } = await tsImport('./server/local/sfu/calls-server.ts', import.meta.url);
const { signJoinToken } = await tsImport('./server/auth/join-token.ts', import.meta.url);
const { startTcpProxy } = await tsImport('./server/local/dev/tcp-proxy.ts', import.meta.url);
const { LOCAL_CALLS_APP_ID, LOCAL_CALLS_APP_SECRET, localCallsVars } = await tsImport(
  './server/local/sfu/local-app.ts',
  import.meta.url,
);

/** A test secret for the second Worker, which requires join tokens. */
const JOIN_SECRET = 'element-tests-secret-long-enough-for-hs256';

/**
 * Starts the local SFU, an open Worker and a token-protected one (both with
 * media through the SFU); tests ask the dev server for their URLs, for the
 * SFU's counters, to inject Calls faults and to impair a session's media.
 */
function localWorkersPlugin() {
  let sfu;
  let open;
  let secured;
  const proxies = new Map();
  return {
    name: 'meetkit-local-workers',
    async serverStart() {
      sfu = await startLocalSfu({ appId: LOCAL_CALLS_APP_ID, appSecret: LOCAL_CALLS_APP_SECRET });
      const calls = localCallsVars(sfu.callsApiUrl);
      [open, secured] = await Promise.all([
        startLocalWorker({ vars: calls }),
        startLocalWorker({ vars: { ...calls, JOIN_SECRET } }),
      ]);
    },
    async serverStop() {
      await Promise.all([...proxies.values()].map((proxy) => proxy.close()));
      await Promise.all([open?.stop(), secured?.stop()]);
      await sfu?.close();
    },
    async serve(context) {
      // A TCP proxy in front of the open Worker, to cut or blackhole a visitor's path.
      if (context.path === '/__meetkit__/proxy/new') {
        const proxy = await startTcpProxy(open.port);
        proxies.set(String(proxy.port), proxy);
        return { body: JSON.stringify({ id: String(proxy.port), url: proxy.url }), type: 'json' };
      }
      const proxyAction = /^\/__meetkit__\/proxy\/(\d+)\/(cut|blackhole|restore|stats)$/.exec(context.path);
      if (proxyAction) {
        const proxy = proxies.get(proxyAction[1]);
        if (proxyAction[2] !== 'stats') proxy?.[proxyAction[2]]();
        return { body: JSON.stringify({ mode: proxy?.mode, accepted: proxy?.accepted }), type: 'json' };
      }
      if (context.path === '/__meetkit__/workers.json') {
        return { body: JSON.stringify({ open: open.url, secured: secured.url }), type: 'json' };
      }
      // A join token for the secured Worker, so tests never hold its secret.
      if (context.path === '/__meetkit__/join-token') {
        const { room, name, role } = Object.fromEntries(new URLSearchParams(context.querystring));
        return signJoinToken({ room, name, role }, JOIN_SECRET, 600).then((token) => ({
          body: JSON.stringify({ token }),
          type: 'json',
        }));
      }
      if (context.path === '/__meetkit__/sfu/stats') {
        return { body: JSON.stringify(sfu.stats()), type: 'json' };
      }
      const session = /^\/__meetkit__\/sfu\/sessions\/([0-9a-f]+)(\/drop)?$/.exec(context.path);
      // Simulates the SFU losing a session (a crash, a network cut) for recovery tests.
      if (session?.[2]) sfu.sessions.get(session[1])?.close();
      if (session) {
        const found = sfu.sessions.get(session[1]);
        const requests = sfu.requests(session[1]);
        // When each published track last got a packet: whether a muted microphone sends anything.
        const lastPacketAt = Object.fromEntries(
          [...(found?.published ?? [])].map(([name, t]) => [name, t.lastPacketAt]),
        );
        const body = found
          ? {
              open: true,
              published: [...found.published.keys()].sort(),
              pulled: found.pulled.size,
              requests,
              lastPacketAt,
            }
          : { open: false, published: [], pulled: 0, requests, lastPacketAt };
        return { body: JSON.stringify(body), type: 'json' };
      }
      // Packet loss and delay on one Calls session's media (server/local/sfu/impairment.ts).
      if (context.path === '/__meetkit__/sfu/impairments') {
        const query = Object.fromEntries(new URLSearchParams(context.querystring));
        const settings = { sessionId: query.sessionId };
        for (const key of ['loss', 'delayMs'])
          if (query[key] !== undefined) settings[key] = Number(query[key]);
        for (const key of ['direction', 'mid']) if (query[key] !== undefined) settings[key] = query[key];
        try {
          return { body: JSON.stringify(sfu.impair(settings)), type: 'json' };
        } catch (error) {
          // The dev server answers 200 whatever a plugin serves: the error is in the body.
          return { body: JSON.stringify({ error: error.message }), type: 'json' };
        }
      }
      if (context.path === '/__meetkit__/sfu/faults') {
        const query = Object.fromEntries(new URLSearchParams(context.querystring));
        const numbers = [
          'status',
          'rate',
          'failNext',
          'delayMs',
          'dropResponseNext',
          'batchErrorNext',
          'failCloseItemNext',
        ];
        const texts = ['errorCode', 'batchErrorCode', 'pathIncludes'];
        const settings = {};
        for (const key of numbers) if (query[key] !== undefined) settings[key] = Number(query[key]);
        for (const key of texts) if (query[key] !== undefined) settings[key] = query[key];
        sfu.faults.set(settings);
        return { body: JSON.stringify(sfu.faults.settings), type: 'json' };
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
