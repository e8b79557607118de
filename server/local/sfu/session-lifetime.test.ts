/**
 * Issue 7, defect 8: the SFU holds nothing after everyone leaves. Sessions
 * end like on Calls: at once when the browser closes its peer connection
 * (DTLS alert), after the reconnect window when it vanishes (page closed,
 * browser killed), after the connect window when it never connects.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaStreamTrack } from 'werift';
import { startLocalSfu, type LocalSfu, type LocalSfuOptions } from './calls-server.js';
import { createPeer } from './peer.js';
import {
  BrowserPeer,
  callsRequest,
  launchChromium,
  launchKillableChromium,
  newSession,
  TEST_APP,
} from './test-browser.js';

/** Short windows, so that the tests see them end. */
const WINDOWS = { connectWindowMs: 2_000, reconnectWindowMs: 2_000 };
const NOTHING_LEFT = { sessions: 0, publishedTracks: 0, pulledTracks: 0 };

let browser: Browser;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => undefined)));
});
afterAll(async () => {
  await browser?.close();
});

async function startSfu(options: Partial<LocalSfuOptions> = WINDOWS): Promise<LocalSfu> {
  const sfu = await startLocalSfu({ ...TEST_APP, ...options });
  cleanups.push(() => sfu.close());
  return sfu;
}

/** The SFU's track and session counts, without the counters. */
function held(sfu: LocalSfu) {
  const { sessions, publishedTracks, pulledTracks } = sfu.stats();
  return { sessions, publishedTracks, pulledTracks };
}

/** A publisher (microphone and camera) and a viewer pulling both, media flowing. */
async function meeting(sfu: LocalSfu, on = browser) {
  // Each session negotiates right after it is made, within the short connect window.
  const publisher = await BrowserPeer.open(on, sfu);
  cleanups.push(() => publisher.page.context().close());
  await publisher.publish([
    { trackName: 'microphone', kind: 'audio' },
    { trackName: 'camera', kind: 'video' },
  ]);
  const viewer = await BrowserPeer.open(on, sfu);
  cleanups.push(() => viewer.page.context().close());
  const [, camera] = await viewer.pull([
    { sessionId: publisher.sessionId, trackName: 'microphone' },
    { sessionId: publisher.sessionId, trackName: 'camera' },
  ]);
  await expect.poll(() => viewer.received(camera!), { timeout: 10_000 }).toBeGreaterThan(5);
  expect(held(sfu)).toEqual({ sessions: 2, publishedTracks: 2, pulledTracks: 2 });
  return { publisher, viewer };
}

/** Polls until the SFU holds nothing; returns how long that took from `since`. */
async function nothingLeftWithin(sfu: LocalSfu, timeout: number, since = Date.now()): Promise<number> {
  await expect.poll(() => held(sfu), { timeout, interval: 20 }).toEqual(NOTHING_LEFT);
  return Date.now() - since;
}

describe('sessions that never connect', () => {
  it('are collected after the connect window, 50 created at once', async () => {
    const sfu = await startSfu();
    // Each window starts when its session is made, so no session may go before the window has
    // passed since the first request went out (creating 50 can take a while on a busy machine).
    const firstRequest = Date.now();
    const ids = await Promise.all(Array.from({ length: 50 }, () => newSession(sfu)));
    expect(held(sfu).sessions).toBe(50);
    const took = await nothingLeftWithin(sfu, WINDOWS.connectWindowMs + 1_500, firstRequest);
    expect(took).toBeGreaterThanOrEqual(WINDOWS.connectWindowMs);
    await expect(callsRequest(sfu, 'GET', `/sessions/${ids[0]}`)).rejects.toThrow(/410/);
  });

  it('are collected with what they published when the browser never takes the answer', async () => {
    const sfu = await startSfu();
    const pc = createPeer();
    cleanups.push(() => pc.close());
    const transceiver = pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const sessionId = await newSession(sfu);
    await callsRequest(sfu, 'POST', `/sessions/${sessionId}/tracks/new`, {
      sessionDescription: { type: 'offer', sdp: pc.localDescription!.sdp },
      tracks: [{ location: 'local', mid: transceiver.mid, trackName: 'microphone' }],
    });
    expect(held(sfu)).toEqual({ sessions: 1, publishedTracks: 1, pulledTracks: 0 });
    await nothingLeftWithin(sfu, WINDOWS.connectWindowMs + 1_500);
  });
});

describe('sessions whose browser leaves', () => {
  it('end at once when the browser closes its peer connections', { timeout: 30_000 }, async () => {
    // Calls' own 30 s windows: only the DTLS alert can end them this fast.
    const sfu = await startSfu({});
    const { publisher, viewer } = await meeting(sfu);
    await Promise.all([publisher.closePeerConnection(), viewer.closePeerConnection()]);
    await nothingLeftWithin(sfu, 1_000);
  });

  it('end within the reconnect window when the page is closed', { timeout: 30_000 }, async () => {
    const sfu = await startSfu();
    const { publisher, viewer } = await meeting(sfu);
    await Promise.all([publisher.page.close(), viewer.page.close()]);
    await nothingLeftWithin(sfu, WINDOWS.reconnectWindowMs + 1_500);
  });

  it('end within the reconnect window when the browser vanishes', { timeout: 30_000 }, async () => {
    const sfu = await startSfu();
    const doomed = await launchKillableChromium();
    cleanups.push(() => doomed.browser.close());
    await meeting(sfu, doomed.browser);
    doomed.kill();
    await nothingLeftWithin(sfu, WINDOWS.reconnectWindowMs + 1_500);
  });
});
