/**
 * What a visitor's page shows of the media, read the way a person would
 * notice it: tiles by name, frames being decoded, sound arriving.
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** Turns on the camera (and microphone) in the lobby, then joins. */
export async function joinWithMedia(page: Page, name: string, { microphone = true } = {}) {
  await page.getByRole('button', { name: /^Camera/ }).click();
  if (microphone) await page.getByRole('button', { name: /^Microphone/ }).click();
  await expect.poll(() => page.locator('[part="preview"]:not([camera-off])').count()).toBe(1);
  await page.getByLabel('Your name').fill(name);
  await page.evaluate((who) => document.querySelector('meet-room')?.setAttribute('data-who', who), name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('meet-participant-grid meet-participant-tile[local]').first().waitFor();
}

export const remoteTile = (page: Page, name: string, screen = false) =>
  page.locator(
    `meet-participant-grid meet-participant-tile${screen ? '[screen-share]' : ':not([screen-share])'}`,
    {
      has: page.getByRole('group', { name: screen ? `${name}'s screen` : name, exact: true }),
    },
  );

/** Frames decoded by a tile's video so far. */
export const framesOf = (page: Page, name: string, screen = false) =>
  remoteTile(page, name, screen)
    .locator('video')
    .evaluate((video: HTMLVideoElement) => video.getVideoPlaybackQuality().totalVideoFrames);

/** The track a tile's video shows, and the frames decoded from it so far. */
const videoOf = (page: Page, name: string, screen = false) =>
  remoteTile(page, name, screen)
    .locator('video')
    .evaluate((video: HTMLVideoElement) => ({
      track: (video.srcObject as MediaStream | null)?.getVideoTracks()[0]?.id ?? null,
      frames: video.getVideoPlaybackQuality().totalVideoFrames,
    }));

/**
 * The tile's video starts (within `startTimeoutMs`) and keeps decoding new
 * frames (more than 5 of one track within `timeoutMs`). A media session
 * rebuilt meanwhile (on purpose when Calls fails) brings a new track: its
 * frames are counted from its start.
 */
export async function expectVideoFlowing(
  page: Page,
  name: string,
  { screen = false, timeoutMs = 5_000, startTimeoutMs = 15_000 } = {},
) {
  const message = `${name}'s ${screen ? 'screen' : 'camera'} decoded on ${await page.evaluate(() => document.querySelector('meet-room')?.getAttribute('data-who'))}`;
  await expect
    .poll(() => framesOf(page, name, screen), { timeout: startTimeoutMs, message })
    .toBeGreaterThan(3);
  let first = await videoOf(page, name, screen);
  await expect
    .poll(
      async () => {
        const now = await videoOf(page, name, screen);
        if (now.track !== first.track) first = now;
        return now.frames - first.frames;
      },
      { timeout: timeoutMs, message },
    )
    .toBeGreaterThan(5);
}

/** The tile plays a live, unmuted (packets arriving) remote audio track. */
export const audioFlowing = (page: Page, name: string) =>
  remoteTile(page, name)
    .locator('audio')
    .evaluate((audio: HTMLAudioElement) => {
      const track = (audio.srcObject as MediaStream | null)?.getAudioTracks()[0];
      return !!track && track.readyState === 'live' && !track.muted && !audio.paused;
    });

/**
 * Sound really arrives from `name`: the tile's audio track is analysed for a
 * moment and must carry energy (Chromium's fake microphone beeps every second).
 */
export async function expectAudioFlowing(page: Page, name: string, timeoutMs = 5_000) {
  const who = await page.evaluate(() => document.querySelector('meet-room')?.getAttribute('data-who'));
  const heard = await remoteTile(page, name)
    .locator('audio')
    .evaluate(async (audio: HTMLAudioElement, timeout: number) => {
      const deadline = performance.now() + timeout;
      const context = new AudioContext();
      try {
        await context.resume();
        while (performance.now() < deadline) {
          const track = (audio.srcObject as MediaStream | null)?.getAudioTracks()[0];
          if (track && track.readyState === 'live') {
            const analyser = context.createAnalyser();
            const source = context.createMediaStreamSource(new MediaStream([track]));
            source.connect(analyser);
            const samples = new Float32Array(analyser.fftSize);
            const until = performance.now() + 1_200;
            while (performance.now() < until) {
              analyser.getFloatTimeDomainData(samples);
              if (samples.some((s) => Math.abs(s) > 0.01)) return true;
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
            source.disconnect();
          } else {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        return false;
      } finally {
        await context.close();
      }
    }, timeoutMs);
  expect(heard, `${name}'s sound heard on ${who}`).toBe(true);
}

/** The Calls session id of the page's `<meet-room>` (its meeting's `mediaSessionId`), or null. */
export const sessionOf = (page: Page) =>
  page.evaluate(
    () =>
      (document.querySelector('meet-room') as unknown as { meeting?: { mediaSessionId: string | null } })
        .meeting?.mediaSessionId ?? null,
  );
