/**
 * Media end to end: visitors of a third-party page join one room from the
 * lobby with the fake camera and microphone, and see and hear each other
 * through the Worker and the local SFU.
 */
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { useE2e } from '../support/e2e.js';

const e2e = useE2e();
const { visitor, pageErrors } = e2e;

afterEach(() => e2e.stack.sfu.faults.set({ status: 503, rate: 0, failNext: 0, delayMs: 0 }));

/** Turns on the camera (and microphone) in the lobby, then joins. */
async function joinWithMedia(page: Page, name: string, { microphone = true } = {}) {
  await page.getByRole('button', { name: /^Camera/ }).click();
  if (microphone) await page.getByRole('button', { name: /^Microphone/ }).click();
  await expect
    .poll(() => page.locator('meet-participant-tile[part="preview"]:not([camera-off])').count())
    .toBe(1);
  await page.getByLabel('Your name').fill(name);
  await page.evaluate((who) => document.querySelector('meet-room')?.setAttribute('data-who', who), name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('meet-participant-grid meet-participant-tile[local]').first().waitFor();
}

const remoteTile = (page: Page, name: string, screen = false) =>
  page.locator(
    `meet-participant-grid meet-participant-tile${screen ? '[screen-share]' : ':not([screen-share])'}`,
    {
      has: page.getByRole('group', { name: screen ? `${name}'s screen` : name, exact: true }),
    },
  );

/** Frames decoded by a tile's video so far. */
const framesOf = (page: Page, name: string, screen = false) =>
  remoteTile(page, name, screen)
    .locator('video')
    .evaluate((video: HTMLVideoElement) => video.getVideoPlaybackQuality().totalVideoFrames);

/** The tile's video keeps decoding new frames. */
async function expectVideoFlowing(page: Page, name: string, screen = false) {
  const message = `${name}'s ${screen ? 'screen' : 'camera'} decoded on ${await page.evaluate(() => document.querySelector('meet-room')?.getAttribute('data-who'))}`;
  await expect.poll(() => framesOf(page, name, screen), { timeout: 15_000, message }).toBeGreaterThan(3);
  const before = await framesOf(page, name, screen);
  await expect.poll(() => framesOf(page, name, screen), { timeout: 5_000 }).toBeGreaterThan(before + 5);
}

/** The tile plays a live, unmuted (packets arriving) remote audio track. */
const audioFlowing = (page: Page, name: string) =>
  remoteTile(page, name)
    .locator('audio')
    .evaluate((audio: HTMLAudioElement) => {
      const track = (audio.srcObject as MediaStream | null)?.getAudioTracks()[0];
      return !!track && track.readyState === 'live' && !track.muted && !audio.paused;
    });

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
    await expectVideoFlowing(ann, 'Bob', true);
    await bob.getByRole('button', { name: 'Share screen' }).click();
    await remoteTile(ann, 'Bob', true).waitFor({ state: 'detached', timeout: 10_000 });

    // Cy leaves: the others' tiles go, and the SFU holds none of Cy's tracks
    // while everyone else's stay.
    const publishing = () =>
      Object.fromEntries(
        [...e2e.stack.sfu.sessions.values()]
          .filter((s) => s.published.size > 0)
          .map((s) => [s.id, [...s.published.keys()].sort().join(',')]),
      );
    await expect
      .poll(() => Object.values(publishing()).sort(), { timeout: 10_000 })
      .toEqual(['camera,microphone', 'camera,microphone', 'camera,microphone']);
    const before = publishing();
    await cy.getByRole('button', { name: 'Leave' }).click();
    await remoteTile(ann, 'Cy').waitFor({ state: 'detached', timeout: 10_000 });
    await expect.poll(() => Object.keys(publishing()).length, { timeout: 10_000 }).toBe(2);
    expect(Object.keys(before)).toEqual(expect.arrayContaining(Object.keys(publishing())));

    await Promise.all([ann, bob, cy].map((page) => page.context().close()));
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('joins and sees video while Calls fails and answers slowly', async () => {
    const room = `faults-${Date.now()}`;
    const [ann, bob] = await Promise.all([visitor(room), visitor(room)]);
    const injectedBefore = e2e.stack.sfu.faults.injected;
    e2e.stack.sfu.faults.set({ status: 503, rate: 0.3, failNext: 2, delayMs: 100 });
    await joinWithMedia(ann, 'Ann', { microphone: false });
    await joinWithMedia(bob, 'Bob', { microphone: false });
    await expectVideoFlowing(bob, 'Ann');
    await expectVideoFlowing(ann, 'Bob');
    expect(e2e.stack.sfu.faults.injected - injectedBefore).toBeGreaterThanOrEqual(2);
    await Promise.all([ann, bob].map((page) => page.context().close()));
  }, 60_000);
});
