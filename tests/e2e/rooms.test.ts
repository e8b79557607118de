import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, findChromium } from '../support/chromium.js';
import { projectRoot, startLocalWorker, type LocalWorker } from '../support/local-worker.js';
import { startStaticServer, type StaticServer } from '../support/static-server.js';

let worker: LocalWorker;
let hostSite: StaticServer;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(projectRoot, 'dist/meetkit.js'))) throw new Error('Build first: npm run build');
  [worker, hostSite, browser] = await Promise.all([
    startLocalWorker(),
    startStaticServer(join(projectRoot, 'demo/host')),
    chromium.launch({ executablePath: findChromium(), args: chromiumArgs() }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([worker?.stop(), hostSite?.stop()]);
});

/** A visitor on the third-party site, in a browser context of their own (own localStorage). */
async function visitor(room: string, script: 'module' | 'classic' = 'module'): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  const params = new URLSearchParams({ room, server: worker.url, script });
  await page.goto(`${hostSite.url}/?${params.toString()}`);
  return page;
}

async function joinAs(page: Page, name: string) {
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect.poll(() => page.getByRole('list').getByText(`${name} (you)`).count()).toBe(1);
}

describe('rooms across origins', () => {
  it('two visitors of a foreign page see each other arrive and leave', async () => {
    const room = `e2e-${Date.now()}`;
    const ann = await visitor(room);
    const bob = await visitor(room, 'classic');
    expect(new URL(ann.url()).origin).not.toBe(worker.url);

    await joinAs(ann, 'Ann');
    await joinAs(bob, 'Bob');
    await ann.getByRole('list').getByText('Bob', { exact: true }).waitFor({ timeout: 5_000 });
    await bob.getByRole('list').getByText('Ann', { exact: true }).waitFor({ timeout: 5_000 });
    await expect.poll(() => ann.getByText('Host').count()).toBe(1);

    await bob.getByRole('button', { name: 'Raise hand' }).click();
    await ann.getByText('Hand raised').waitFor({ timeout: 5_000 });

    // Bob closes the tab without saying goodbye.
    await bob.context().close();
    await ann
      .getByRole('list')
      .getByText('Bob', { exact: true })
      .waitFor({ state: 'detached', timeout: 5_000 });
    expect(await ann.getByRole('heading', { name: /In the meeting \(1\)/ }).count()).toBe(1);

    await ann.context().close();
    expect(pageErrors).toEqual([]);
  });
});
