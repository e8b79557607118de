/**
 * The local SFU gives back what it binds: werift makes a transport (with its
 * ICE sockets) for each new m-line and then bundles the m-line onto the one
 * transport of the session, and a closed session closes only the transports
 * in use. Real Chromium, whose sockets are in its own processes: what is
 * counted here is the SFU's.
 */
import { describe, expect, it } from 'vitest';
import { useSfuAndBrowser } from './test-browser.js';

const stack = useSfuAndBrowser();

/** UDP sockets this process holds now. */
const udpSockets = () => process.getActiveResourcesInfo().filter((kind) => kind === 'UDPWrap').length;

describe('the local SFU’s sockets', () => {
  it(
    'stays at one transport for a viewer whose first pull takes three tracks, and gives all back on close',
    { timeout: 30_000 },
    async () => {
      const before = udpSockets();
      const publisher = await stack.open();
      await publisher.publish([
        { trackName: 'microphone', kind: 'audio' },
        { trackName: 'camera', kind: 'video', simulcast: true },
        { trackName: 'screen', kind: 'video' },
      ]);
      const oneSession = udpSockets() - before;
      expect(oneSession).toBeGreaterThan(0);
      // A fresh session whose first SFU offer has three m-lines: werift makes a transport for each.
      const viewer = await stack.open();
      await viewer.pull([
        { sessionId: publisher.sessionId, trackName: 'microphone' },
        { sessionId: publisher.sessionId, trackName: 'camera', simulcast: { preferredRid: 'h' } },
        { sessionId: publisher.sessionId, trackName: 'screen' },
      ]);
      await expect.poll(udpSockets).toBe(before + 2 * oneSession);
      // Another pull adds an m-line on the bundled transport, and no socket.
      await viewer.pull([{ sessionId: publisher.sessionId, trackName: 'microphone' }]);
      expect(udpSockets()).toBe(before + 2 * oneSession);

      await publisher.closePeerConnection();
      await viewer.closePeerConnection();
      await expect.poll(() => stack.sfu.sessions.size, { timeout: 10_000 }).toBe(0);
      await expect.poll(udpSockets, { timeout: 5_000 }).toBe(before);
    },
  );
});
