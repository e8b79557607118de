/**
 * Downlink of one viewer in a room of camera publishers: the video bytes per
 * second it receives with the stage and simulcast (the demo page's
 * `<meet-room>`, its grid showing at most `maxTiles` tiles, each camera in
 * the layer its tile needs), next to a baseline viewer in the same room at
 * the same time that pulls every camera's top layer (the headless core with
 * no grid: it receives every video, unmeasured tiles take the full layer).
 *
 * The publishers are light: headless meetings in one page, each with
 * Chromium's fake camera (640×480, three layers) capped at 15 fps, in
 * audio-only mode so that they pull no video themselves.
 */
import { chromium, type Page } from 'playwright-core';
import { chromiumArgs, findChromium } from '../server/local/dev/chromium.js';
import type { MediaStack } from '../server/local/dev/media-stack.js';
import type { StaticServer } from '../server/local/dev/static-server.js';

/** The part of `createMeeting` the pages use (the bundle is loaded from the Worker, untyped). */
type CreateMeeting = (options: {
  server: string;
  room: string;
  storage: null;
  camera?: { maxFramerate: number };
}) => {
  connection$: { subscribe(next: (status: string) => void): { unsubscribe(): void } };
  setAudioOnly(on: boolean): void;
  setCamera(on: boolean): Promise<void>;
  join(name: string): boolean;
};

export interface DownlinkResult {
  /** Video bytes/s received by the viewer with the stage and simulcast, one value per window. */
  stageBytesPerSecond: number[];
  /** The same, by the baseline viewer pulling every camera's top layer. */
  baselineBytesPerSecond: number[];
  /** Cameras each viewer received video from during the last window. */
  stageVideos: number;
  baselineVideos: number;
  /** Frame widths the stage viewer received, e.g. `{640: 1, 320: 3}`. */
  stageWidths: Record<string, number>;
}

/** Every RTCPeerConnection the page makes, for reading its statistics. */
const COLLECT_PEERS = `(() => {
  const Native = RTCPeerConnection;
  const peers = [];
  globalThis.__peers = peers;
  globalThis.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); peers.push(this); }
  };
})();`;

/** Video bytes received so far over the page's open peer connections, and what is flowing. */
async function videoReceived(page: Page) {
  return page.evaluate(async () => {
    const peers = (globalThis as unknown as { __peers: RTCPeerConnection[] }).__peers;
    let bytes = 0;
    const widths: Record<string, number> = {};
    let videos = 0;
    for (const pc of peers) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      stats.forEach(
        (report: { type: string; kind?: string; bytesReceived?: number; frameWidth?: number }) => {
          if (report.type !== 'inbound-rtp' || report.kind !== 'video') return;
          bytes += report.bytesReceived ?? 0;
          if (report.frameWidth) {
            videos++;
            widths[report.frameWidth] = (widths[report.frameWidth] ?? 0) + 1;
          }
        },
      );
    }
    return { bytes, at: performance.now(), widths, videos };
  });
}

export async function measureDownlink(
  stack: MediaStack,
  hostSite: StaticServer,
  {
    publishers,
    maxTiles,
    windows,
    windowMs,
  }: { publishers: number; maxTiles: number; windows: number; windowMs: number },
): Promise<DownlinkResult> {
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: chromiumArgs({ media: true }),
  });
  const room = `downlink-bench-${Date.now()}`;
  const server = stack.worker.url;
  try {
    const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
    await context.addInitScript({ content: COLLECT_PEERS });

    // The publishers: headless meetings with a camera, receiving no video.
    const publisherPage = await context.newPage();
    await publisherPage.goto(`${hostSite.url}/?${new URLSearchParams({ room: 'unused', server })}`);
    await publisherPage.evaluate(
      async ({ server, room, count }) => {
        const { createMeeting } = (await import(`${server}/meetkit.js`)) as { createMeeting: CreateMeeting };
        for (let i = 0; i < count; i++) {
          const meeting = createMeeting({ server, room, storage: null, camera: { maxFramerate: 15 } });
          meeting.setAudioOnly(true);
          await meeting.setCamera(true);
          await new Promise<void>((resolve) => {
            const subscription = meeting.connection$.subscribe((status) => {
              if (status !== 'open') return;
              queueMicrotask(() => subscription.unsubscribe());
              resolve();
            });
          });
          meeting.join(`Publisher ${i + 1}`);
        }
      },
      { server, room, count: publishers },
    );

    // The stage viewer: the demo page's <meet-room>, its grid capped.
    const stagePage = await context.newPage();
    await stagePage.setViewportSize({ width: 1280, height: 800 });
    await stagePage.goto(`${hostSite.url}/?${new URLSearchParams({ room, server })}`);
    await stagePage.evaluate(
      (max) => document.querySelector('meet-room')!.setAttribute('max-tiles', String(max)),
      maxTiles,
    );
    await stagePage.getByLabel('Your name').fill('Stage viewer');
    await stagePage.getByRole('button', { name: 'Join' }).click();

    // The baseline viewer: the headless core, every video at the top layer.
    const baselinePage = await context.newPage();
    await baselinePage.goto(`${hostSite.url}/?${new URLSearchParams({ room: 'unused', server })}`);
    await baselinePage.evaluate(
      async ({ server, room }) => {
        const { createMeeting } = (await import(`${server}/meetkit.js`)) as { createMeeting: CreateMeeting };
        const meeting = createMeeting({ server, room, storage: null });
        await new Promise<void>((resolve) => {
          const subscription = meeting.connection$.subscribe((status) => {
            if (status !== 'open') return;
            queueMicrotask(() => subscription.unsubscribe());
            resolve();
          });
        });
        meeting.join('Baseline viewer');
      },
      { server, room },
    );

    // Steady: every camera the baseline pulls is decoding, and the stage has settled its layers.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [stage, baseline] = await Promise.all([videoReceived(stagePage), videoReceived(baselinePage)]);
      if (baseline.videos >= publishers && stage.videos > 0) break;
      if (Date.now() > deadline)
        throw new Error(`not steady: baseline ${baseline.videos} videos, stage ${stage.videos}`);
      await stagePage.waitForTimeout(500);
    }
    await stagePage.waitForTimeout(3_000);

    const result: DownlinkResult = {
      stageBytesPerSecond: [],
      baselineBytesPerSecond: [],
      stageVideos: 0,
      baselineVideos: 0,
      stageWidths: {},
    };
    for (let w = 0; w < windows; w++) {
      const [stage0, baseline0] = await Promise.all([videoReceived(stagePage), videoReceived(baselinePage)]);
      await stagePage.waitForTimeout(windowMs);
      const [stage1, baseline1] = await Promise.all([videoReceived(stagePage), videoReceived(baselinePage)]);
      result.stageBytesPerSecond.push(((stage1.bytes - stage0.bytes) * 1000) / (stage1.at - stage0.at));
      result.baselineBytesPerSecond.push(
        ((baseline1.bytes - baseline0.bytes) * 1000) / (baseline1.at - baseline0.at),
      );
      result.stageVideos = stage1.videos;
      result.baselineVideos = baseline1.videos;
      result.stageWidths = stage1.widths;
    }
    return result;
  } finally {
    await browser.close();
  }
}
