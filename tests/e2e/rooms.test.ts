import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useE2e } from '../support/e2e.js';

const e2e = useE2e();
const { visitor, pageErrors } = e2e;

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
    const bob = await visitor(room, { script: 'classic' });
    expect(new URL(ann.url()).origin).not.toBe(e2e.stack.worker.url);

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
