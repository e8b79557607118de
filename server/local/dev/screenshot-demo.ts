/**
 * Regenerates docs/demo.png: a call on the third-party host page, three
 * visitors with their (fake) cameras, one sharing a screen, one hand raised.
 * `npm run build && npx tsx server/local/dev/screenshot-demo.ts`
 */
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumArgs, findChromium } from './chromium.js';
import { startMediaStack } from './media-stack.js';
import { startStaticServer } from './static-server.js';
import { projectRoot } from './worker.js';

const stack = await startMediaStack();
const host = await startStaticServer(join(projectRoot, 'demo/host'));
const browser = await chromium.launch({
  executablePath: findChromium(),
  args: chromiumArgs({ media: true }),
});
try {
  const room = `screenshot-${Date.now().toString(36)}`;
  const pages = [];
  for (const name of ['Ada', 'Grace', 'Linus']) {
    const context = await browser.newContext({
      viewport: { width: 1100, height: 820 },
      permissions: ['camera', 'microphone'],
    });
    const page = await context.newPage();
    await page.goto(`${host.url}/?${new URLSearchParams({ room, server: stack.worker.url }).toString()}`);
    await page.getByRole('button', { name: /^Camera/ }).click();
    if (name !== 'Linus') await page.getByRole('button', { name: /^Microphone/ }).click();
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('meet-participant-grid meet-participant-tile[local]').first().waitFor();
    pages.push(page);
  }
  const [ada, grace] = pages as [(typeof pages)[0], (typeof pages)[0]];
  await grace.getByRole('button', { name: 'Raise hand' }).click();
  await grace.getByRole('button', { name: 'Share screen' }).click();
  await ada.locator('meet-participant-tile[screen-share]:not([local])').waitFor();
  await ada
    .locator('meet-participant-grid meet-participant-tile:not([local]):not([camera-off])')
    .nth(1)
    .waitFor();
  await ada.waitForTimeout(1_500); // Let the fake screen and cameras paint a few frames.
  await ada.screenshot({ path: join(projectRoot, 'docs/demo.png') });
} finally {
  await browser.close();
  await Promise.all([stack.stop(), host.stop()]);
}
