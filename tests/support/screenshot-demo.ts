/**
 * Regenerates docs/demo.png: two visitors of the third-party host page in one
 * room, side by side. `npm run build && npx tsx tests/support/screenshot-demo.ts`
 */
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumArgs, findChromium } from './chromium.js';
import { projectRoot, startLocalWorker } from './local-worker.js';
import { startStaticServer } from './static-server.js';

const worker = await startLocalWorker();
const host = await startStaticServer(join(projectRoot, 'demo/host'));
const browser = await chromium.launch({ executablePath: findChromium(), args: chromiumArgs() });
try {
  const room = `screenshot-${Date.now().toString(36)}`;
  const pages = [];
  for (const name of ['Ada', 'Grace', 'Linus']) {
    const page = await (await browser.newContext({ viewport: { width: 640, height: 560 } })).newPage();
    await page.goto(`${host.url}/?${new URLSearchParams({ room, server: worker.url }).toString()}`);
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByText(`${name} (you)`).waitFor();
    pages.push(page);
  }
  await pages[1]!.getByRole('button', { name: 'Raise hand' }).click();
  await pages[0]!.getByText('Hand raised').waitFor();
  await pages[0]!.screenshot({ path: join(projectRoot, 'docs/demo.png') });
} finally {
  await browser.close();
  await Promise.all([worker.stop(), host.stop()]);
}
