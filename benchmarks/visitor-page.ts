/**
 * A visitor of the third-party demo page for the browser benchmarks: a
 * context of its own (camera and microphone allowed, an optional page
 * script first), the microphone turned on in the lobby, joined as `name`.
 */
import type { Browser, Page } from 'playwright-core';
import type { StaticServer } from '../server/local/dev/static-server.js';

export async function joinWithMicrophone(
  browser: Browser,
  {
    hostSite,
    server,
    room,
    name,
    initScript,
  }: {
    hostSite: StaticServer;
    server: string;
    room: string;
    name: string;
    initScript?: string;
  },
): Promise<Page> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  if (initScript) await context.addInitScript({ content: initScript });
  const page = await context.newPage();
  await page.goto(`${hostSite.url}/?${new URLSearchParams({ room, server }).toString()}`);
  await page.getByRole('button', { name: /^Microphone/ }).click();
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('meet-participant-grid meet-participant-tile[local]').waitFor();
  return page;
}
