import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, findChromium } from '../support/chromium.js';
import { projectRoot } from '../support/local-worker.js';
import { startMediaStack, type MediaStack } from '../support/media-stack.js';
import { startStaticServer, type StaticServer } from '../support/static-server.js';

let stack: MediaStack;
let hostSite: StaticServer;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(projectRoot, 'dist/meetkit.js'))) throw new Error('Build first: npm run build');
  [stack, hostSite, browser] = await Promise.all([
    startMediaStack(),
    startStaticServer(join(projectRoot, 'demo/host')),
    chromium.launch({ executablePath: findChromium(), args: chromiumArgs() }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([stack?.stop(), hostSite?.stop()]);
});

/** A visitor on the third-party site, in a browser context of their own (own localStorage). */
async function visitor(room: string, script: 'module' | 'classic' = 'module'): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  const params = new URLSearchParams({ room, server: stack.worker.url, script });
  await page.goto(`${hostSite.url}/?${params.toString()}`);
  return page;
}

/** The people list of the room (the video grid lists names too). */
const people = (page: Page) => page.locator('[part="participants"]');

async function joinAs(page: Page, name: string) {
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect.poll(() => people(page).getByText(`${name} (you)`).count()).toBe(1);
}

describe('rooms across origins', () => {
  it('two visitors of a foreign page see each other arrive and leave', async () => {
    const room = `e2e-${Date.now()}`;
    const ann = await visitor(room);
    const bob = await visitor(room, 'classic');
    expect(new URL(ann.url()).origin).not.toBe(stack.worker.url);

    await joinAs(ann, 'Ann');
    await joinAs(bob, 'Bob');
    await people(ann).getByText('Bob', { exact: true }).waitFor({ timeout: 5_000 });
    await people(bob).getByText('Ann', { exact: true }).waitFor({ timeout: 5_000 });
    await expect.poll(() => people(ann).getByText('Host').count()).toBe(1);

    await bob.getByRole('button', { name: 'Raise hand' }).click();
    await people(ann).getByText('Hand raised').waitFor({ timeout: 5_000 });

    // Bob closes the tab without saying goodbye.
    await bob.context().close();
    await people(ann).getByText('Bob', { exact: true }).waitFor({ state: 'detached', timeout: 5_000 });
    expect(await ann.getByRole('heading', { name: /In the meeting \(1\)/ }).count()).toBe(1);

    await ann.context().close();
    expect(pageErrors).toEqual([]);
  });
});
