/**
 * Media end to end: visitors of a third-party page join one room from the
 * lobby with the fake camera and microphone, and see and hear each other
 * through the Worker and the local SFU.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { useE2e } from '../support/e2e.js';
import {
  audioFlowing,
  expectVideoFlowing,
  joinWithMedia,
  remoteTile,
  sessionOf,
} from '../support/media-page.js';

const e2e = useE2e();
const { visitor, pageErrors } = e2e;

afterEach(() => e2e.stack.sfu.faults.set({ status: 503, rate: 0, failNext: 0, delayMs: 0 }));

describe('media across origins', () => {
  it('three visitors see and hear each other, mute, turn the camera off, share a screen and leave', async () => {
    const room = `media-${Date.now()}`;
    const [ann, bob, cy] = await Promise.all([visitor(room), visitor(room), visitor(room)]);
    await joinWithMedia(ann, 'Ann');
    await joinWithMedia(bob, 'Bob');
    await joinWithMedia(cy, 'Cy');

    for (const [page, others] of [
      [ann, ['Bob', 'Cy']],
      [bob, ['Ann', 'Cy']],
      [cy, ['Ann', 'Bob']],
    ] as const) {
      for (const name of others) {
        await expectVideoFlowing(page, name);
        await expect.poll(() => audioFlowing(page, name), { timeout: 10_000 }).toBe(true);
      }
    }

    // Ann mutes: the others see it.
    await ann.getByRole('button', { name: 'Microphone', exact: true }).click();
    await expect.poll(() => remoteTile(bob, 'Ann').getAttribute('muted')).toBe('');
    await expect.poll(() => remoteTile(cy, 'Ann').getAttribute('muted')).toBe('');

    // Ann turns her camera off: her initial replaces the video.
    await ann.getByRole('button', { name: 'Camera', exact: true }).click();
    await expect.poll(() => remoteTile(bob, 'Ann').getAttribute('camera-off')).toBe('');
    expect(await remoteTile(bob, 'Ann').locator('[part="avatar"]').textContent()).toBe('A');

    // Bob shares his (fake) screen: a new tile for the others.
    await bob.getByRole('button', { name: 'Share screen' }).click();
    await remoteTile(ann, 'Bob', true).waitFor({ timeout: 10_000 });
    await expectVideoFlowing(ann, 'Bob', { screen: true });
    await bob.getByRole('button', { name: 'Share screen' }).click();
    await remoteTile(ann, 'Bob', true).waitFor({ state: 'detached', timeout: 10_000 });

    // Cy leaves: the others' tiles go, and the SFU holds none of Cy's tracks while Bob's stay.
    // (Ann's may go on their own: a microphone and camera off for 20 s are unpublished.)
    const published = (sessionId: string | null) =>
      [...(e2e.stack.sfu.sessions.get(sessionId ?? '')?.published.keys() ?? [])].sort().join(',');
    const [bobSession, cySession] = await Promise.all([sessionOf(bob), sessionOf(cy)]);
    expect([published(bobSession), published(cySession)]).toEqual(['camera,microphone', 'camera,microphone']);
    await cy.getByRole('button', { name: 'Leave' }).click();
    await remoteTile(ann, 'Cy').waitFor({ state: 'detached', timeout: 10_000 });
    await expect.poll(() => published(cySession), { timeout: 10_000 }).toBe('');
    expect(published(bobSession)).toBe('camera,microphone');

    await Promise.all([ann, bob, cy].map((page) => page.context().close()));
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('joins and sees video while Calls fails and answers slowly', async () => {
    const room = `faults-${Date.now()}`;
    const [ann, bob] = await Promise.all([visitor(room), visitor(room)]);
    const injectedBefore = e2e.stack.sfu.faults.injected;
    // The first two Calls requests fail with 503, then three in ten until ten more have failed, and
    // every answer is slow. What Calls did not take the Worker sends again; what it may have taken,
    // the browser redoes with a new session. A user sees video, a little later.
    e2e.stack.sfu.faults.set({ status: 503, rate: 0.3, rateLimitedTo: 10, failNext: 2, delayMs: 100 });
    await joinWithMedia(ann, 'Ann', { microphone: false });
    await joinWithMedia(bob, 'Bob', { microphone: false });
    // A session rebuilt after video started (an answer of unknown outcome) starts over, so
    // "keeps decoding" gets as long as a first start.
    const underFaults = { startTimeoutMs: 30_000, timeoutMs: 30_000 };
    await expectVideoFlowing(bob, 'Ann', underFaults);
    await expectVideoFlowing(ann, 'Bob', underFaults);
    expect(e2e.stack.sfu.faults.injected - injectedBefore).toBeGreaterThanOrEqual(2);
    await Promise.all([ann, bob].map((page) => page.context().close()));
  }, 150_000);
});
