/**
 * Host moderation end to end (issue 9): two visitors of the third-party
 * page; the host mutes the guest, who is told who did it, then removes him:
 * he reads why, is out of the meeting and stays out, and the host's list no
 * longer has him.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useE2e } from '../support/e2e.js';
import { joinWithMedia } from '../support/media-page.js';

const e2e = useE2e();
const { visitor, pageErrors } = e2e;

const people = (page: Page) => page.locator('[part="participants"]');

/** What the page's meeting says of its room connection now (`closed`: it will not come back by itself). */
const roomConnection = (page: Page) =>
  page.evaluate(() => {
    type Status = { subscribe(next: (status: string) => void): { unsubscribe(): void } };
    const room = document.querySelector('meet-room') as unknown as { meeting: { connection$: Status } };
    let status = '';
    room.meeting.connection$.subscribe((value) => (status = value)).unsubscribe();
    return status;
  });

describe('host moderation across origins', () => {
  it('a host mutes a guest, who is told who did it, then removes him: he reads why and stays out', async () => {
    const room = `moderation-${Date.now()}`;
    const [ann, bob] = await Promise.all([visitor(room), visitor(room)]);
    await ann.getByLabel('Your name').fill('Ann');
    await ann.getByRole('button', { name: 'Join' }).click();
    await people(ann).getByText('Ann (you)').waitFor();
    await joinWithMedia(bob, 'Bob');
    await people(ann).getByText('Bob', { exact: true }).waitFor({ timeout: 5_000 });

    await ann.getByRole('button', { name: 'Mute Bob' }).click();
    await bob.getByRole('status').filter({ hasText: 'Ann muted you.' }).waitFor({ timeout: 5_000 });
    await expect
      .poll(() => bob.getByRole('button', { name: 'Microphone', exact: true }).getAttribute('aria-pressed'))
      .toBe('false');

    await ann.getByRole('button', { name: 'More for Bob' }).click();
    await ann.getByRole('button', { name: 'Remove Bob' }).click();
    const question = ann.getByRole('group', { name: 'Remove Bob?' });
    const confirm = question.getByRole('button', { name: 'Remove', exact: true });
    // The question takes the focus: Enter answers it.
    await expect
      .poll(() => confirm.evaluate((b) => (b.getRootNode() as ShadowRoot).activeElement === b))
      .toBe(true);
    await ann.keyboard.press('Enter');

    await bob
      .getByRole('status')
      .filter({ hasText: 'Ann removed you from the meeting.' })
      .waitFor({ timeout: 5_000 });
    expect(await bob.locator('meet-room').getAttribute('phase')).toBe('left');
    expect(await bob.getByRole('button', { name: 'Join' }).count()).toBe(0);
    expect(await people(bob).count()).toBe(0);
    expect(await roomConnection(bob)).toBe('closed');

    await people(ann).getByText('Bob', { exact: true }).waitFor({ state: 'detached', timeout: 5_000 });
    expect(await ann.getByRole('heading', { name: /In the meeting \(1\)/ }).count()).toBe(1);
    const summary = (await (await fetch(`${e2e.stack.worker.url}/api/rooms/${room}`)).json()) as {
      participants: number;
      lobby: number;
    };
    expect(summary).toMatchObject({ participants: 1, lobby: 0 });

    await Promise.all([ann, bob].map((page) => page.context().close()));
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
