/**
 * Shared set-up for the end-to-end tests: the Worker with the local SFU, the
 * third-party host page on its own origin, Chromium with fake media, and
 * visitors of that page who each have a browser context of their own.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { chromiumArgs, findChromium } from '../../server/local/dev/chromium.js';
import { startMediaStack, type MediaStack } from '../../server/local/dev/media-stack.js';
import { startStaticServer, type StaticServer } from '../../server/local/dev/static-server.js';
import { localOpenAiVars, LOCAL_OPENAI_API_KEY } from '../../server/local/realtime/local-key.js';
import { startLocalRealtime, type LocalRealtime } from '../../server/local/realtime/server.js';
import { projectRoot } from '../../server/local/dev/worker.js';

export interface E2e {
  stack: MediaStack;
  hostSite: StaticServer;
  /** The local OpenAI Realtime stand-in the Worker talks to (with `useE2e({ ai: true })`). */
  realtime: LocalRealtime | undefined;
  /** Page errors and console warnings or errors, from every visitor. */
  pageErrors: string[];
  /**
   * A visitor of the host page, in a context of their own (own storage,
   * camera and microphone allowed). `server` puts something (a proxy) between
   * them and the Worker.
   */
  visitor(
    this: void,
    room: string,
    options?: { script?: 'module' | 'classic'; server?: string; initScript?: string },
  ): Promise<Page>;
}

/** `ai`: also run the local OpenAI Realtime stand-in, so rooms offer the AI agent. */
export function useE2e({ ai = false }: { ai?: boolean } = {}): E2e {
  let browser: Browser | undefined;
  const e2e = {
    pageErrors: [] as string[],
    async visitor(
      room: string,
      {
        script = 'module',
        server,
        initScript,
      }: { script?: 'module' | 'classic'; server?: string; initScript?: string } = {},
    ) {
      const context = await browser!.newContext({ permissions: ['camera', 'microphone'] });
      if (initScript) await context.addInitScript({ content: initScript });
      const page = await context.newPage();
      page.on('pageerror', (error) => e2e.pageErrors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'warning' || message.type() === 'error') e2e.pageErrors.push(message.text());
      });
      const params = new URLSearchParams({ room, server: server ?? e2e.stack.worker.url, script });
      await page.goto(`${e2e.hostSite.url}/?${params.toString()}`);
      return page;
    },
  } as E2e;

  beforeAll(async () => {
    if (!existsSync(join(projectRoot, 'dist/meetkit.js'))) throw new Error('Build first: npm run build');
    e2e.realtime = ai ? await startLocalRealtime({ apiKey: LOCAL_OPENAI_API_KEY }) : undefined;
    [e2e.stack, e2e.hostSite, browser] = await Promise.all([
      startMediaStack(e2e.realtime ? { vars: localOpenAiVars(e2e.realtime.url) } : {}),
      startStaticServer(join(projectRoot, 'demo/host')),
      chromium.launch({ executablePath: findChromium(), args: chromiumArgs({ media: true }) }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([e2e.stack?.stop(), e2e.hostSite?.stop(), e2e.realtime?.close()]);
  });
  return e2e;
}
