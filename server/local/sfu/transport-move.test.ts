/**
 * Issue 7, defect 12: when a browser closes its first m-line (the BUNDLE
 * tag), Chrome moves the whole bundle to a new transport (new port, new DTLS
 * handshake). The local SFU must follow, or every other track stops. Real
 * Chromium with fake devices, straight to the SFU's Calls API.
 */
import { describe, expect, it } from 'vitest';
import { BrowserPeer, useSfuAndBrowser } from './test-browser.js';

/** One second of the fake camera (20 fps), or less than half a second of Opus packets (50/s). */
const MORE = 20;
const TIMEOUT = { timeout: 8_000, interval: 100 };

const stack = useSfuAndBrowser();
const open = () => stack.open();

/** Waits until `mid` has received `more` frames (video) or packets (audio) than now. */
async function keepsReceiving(peer: BrowserPeer, mid: string, more = MORE): Promise<void> {
  const now = await peer.received(mid);
  await expect.poll(() => peer.received(mid), TIMEOUT).toBeGreaterThanOrEqual(now + more);
}

/** The connection is up again, and never failed or went down on the way. */
async function staysConnected(peer: BrowserPeer, statesBefore: number): Promise<void> {
  await expect.poll(() => peer.connectionState(), TIMEOUT).toBe('connected');
  const since = (await peer.states()).slice(statesBefore);
  expect(since).not.toContain('failed');
  expect(since).not.toContain('disconnected');
}

describe('a browser that closes the m-line carrying its BUNDLE tag', () => {
  it('keeps decoding the other track it pulls, can pull again and publish', { timeout: 40_000 }, async () => {
    const { publisher, viewer, microphone, camera } = await stack.publisherAndViewer();
    await keepsReceiving(viewer, camera);
    expect(await viewer.bundleTag()).toBe(microphone); // The premise: the m-line to close is the tag.

    const states = (await viewer.states()).length;
    await viewer.close([microphone]);
    expect(await viewer.bundleTag()).toBe(camera); // Chrome moved the bundle.
    await keepsReceiving(viewer, camera);
    await staysConnected(viewer, states);

    // The SFU's next offer keeps the browser on its transport and adds a new m-line.
    const [again] = await viewer.pull([{ sessionId: publisher.sessionId, trackName: 'microphone' }]);
    expect(again).not.toBe(microphone);
    expect(await viewer.bundleTag()).toBe(camera);
    await keepsReceiving(viewer, again!);
    await keepsReceiving(viewer, camera);
    await staysConnected(viewer, states);

    // Then the viewer turns its microphone on: Chrome puts it on the closed first m-line, which
    // moves the bundle once more (new mid, new ICE credentials).
    await viewer.publish([{ trackName: 'microphone', kind: 'audio' }]);
    expect(await viewer.bundleTag()).toBe(viewer.published.get('microphone'));
    const [heard] = await publisher.pull([{ sessionId: viewer.sessionId, trackName: 'microphone' }]);
    await keepsReceiving(publisher, heard!);
    await keepsReceiving(viewer, camera);
    await staysConnected(viewer, states);
  });

  it(
    'keeps sending its camera after closing its microphone, then sends a new microphone',
    { timeout: 40_000 },
    async () => {
      const publisher = await open();
      await publisher.publish([
        { trackName: 'microphone', kind: 'audio' },
        { trackName: 'camera', kind: 'video' },
      ]);
      const viewer = await open();
      const [camera] = await viewer.pull([{ sessionId: publisher.sessionId, trackName: 'camera' }]);
      await keepsReceiving(viewer, camera!);
      const firstMicrophone = publisher.published.get('microphone')!;
      expect(await publisher.bundleTag()).toBe(firstMicrophone);

      // The idle unpublish of a muted microphone.
      const states = (await publisher.states()).length;
      await publisher.close([firstMicrophone]);
      expect(await publisher.bundleTag()).toBe(publisher.published.get('camera'));
      await keepsReceiving(viewer, camera!);
      await staysConnected(publisher, states);

      // Unmuted: a new transceiver, which Chrome puts on the closed m-line with a new mid and new ICE credentials.
      await publisher.publish([{ trackName: 'microphone', kind: 'audio' }]);
      expect(await publisher.bundleTag()).toBe(publisher.published.get('microphone'));
      const [microphone] = await viewer.pull([{ sessionId: publisher.sessionId, trackName: 'microphone' }]);
      await keepsReceiving(viewer, microphone!);
      await keepsReceiving(viewer, camera!);
      await staysConnected(publisher, states);
    },
  );

  it(
    'follows the moves after several closed m-lines, with offers from both sides',
    { timeout: 40_000 },
    async () => {
      const other = await open();
      await other.publish([{ trackName: 'camera', kind: 'video' }]);
      const publisher = await open();
      await publisher.publish([
        { trackName: 'microphone', kind: 'audio' },
        { trackName: 'camera', kind: 'video' },
        { trackName: 'screen', kind: 'video' },
      ]);
      const viewer = await open();
      const [camera] = await viewer.pull([{ sessionId: publisher.sessionId, trackName: 'camera' }]);
      await keepsReceiving(viewer, camera!);

      // A screen share ends, then the microphone idles out; then it comes back, on the first m-line
      // with new ICE credentials, while the closed screen m-line still carries the old ones.
      await publisher.close([publisher.published.get('screen')!]);
      await publisher.close([publisher.published.get('microphone')!]);
      await publisher.publish([{ trackName: 'microphone', kind: 'audio' }]);
      const [microphone] = await viewer.pull([{ sessionId: publisher.sessionId, trackName: 'microphone' }]);
      await keepsReceiving(viewer, microphone!);

      // An offer from the SFU to the same session, then a new screen share on the closed m-line.
      const [otherCamera] = await publisher.pull([{ sessionId: other.sessionId, trackName: 'camera' }]);
      await keepsReceiving(publisher, otherCamera!);
      await publisher.publish([{ trackName: 'screen', kind: 'video' }]);
      const [screen] = await viewer.pull([{ sessionId: publisher.sessionId, trackName: 'screen' }]);
      await keepsReceiving(viewer, screen!);
      await keepsReceiving(viewer, camera!);
      await keepsReceiving(publisher, otherCamera!);
      expect(await publisher.connectionState()).toBe('connected');
    },
  );

  it('publishes again after closing its only m-line', { timeout: 40_000 }, async () => {
    const publisher = await open();
    await publisher.publish([{ trackName: 'camera', kind: 'video' }]);
    const viewer = await open();
    const [camera] = await viewer.pull([{ sessionId: publisher.sessionId, trackName: 'camera' }]);
    await keepsReceiving(viewer, camera!);

    // No BUNDLE group left: Chrome drops its transport (with a DTLS close alert), the session stays.
    await publisher.close([publisher.published.get('camera')!]);
    expect(await publisher.bundleTag()).toBeUndefined();
    await expect.poll(() => publisher.connectionState(), TIMEOUT).toBe('new');
    expect(stack.sfu.sessions.has(publisher.sessionId)).toBe(true);

    await publisher.publish([{ trackName: 'camera', kind: 'video' }]);
    await expect.poll(() => publisher.connectionState(), TIMEOUT).toBe('connected');
    const [again] = await viewer.pull([{ sessionId: publisher.sessionId, trackName: 'camera' }]);
    await keepsReceiving(viewer, again!);
  });
});
