/**
 * Path restored → back in the meeting with media, on the third-party demo
 * page, two visitors with fake cameras and microphones:
 *   cut       a TCP proxy between Ann and the Worker drops everything for 5 s
 *             (the media path to the SFU stays up, as on a flaky Wi-Fi that
 *             only loses the signalling);
 *   cut+media the same, and the SFU loses Ann's session meanwhile (the media
 *             path broke too): she must build a new session once back;
 *   restart   the Worker is killed and started again on the same port and
 *             storage (a deploy); the clock starts when it answers again.
 * The time is until Ann's page says she is in the meeting again AND each
 * page has decoded new video frames from the other since the path came back
 * (a new track's frames, after a media loss).
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs, findChromium } from '../server/local/dev/chromium.js';
import type { MediaStack } from '../server/local/dev/media-stack.js';
import type { StaticServer } from '../server/local/dev/static-server.js';
import { startTcpProxy } from '../server/local/dev/tcp-proxy.js';

export type ReconnectScenario = 'cut' | 'cut+media' | 'restart';

export interface ReconnectResult {
  scenario: ReconnectScenario;
  /** Path restored → Ann's page in the meeting again (ms). */
  resumedMs: number;
  /** Path restored → new frames decoded both ways (ms). */
  mediaMs: number;
}

/** The remote tile of `name` on this page: its video's decoded frames and its track. */
const TILE_VIDEO = (name: string) => {
  const grid = document.querySelector('meet-room')?.shadowRoot?.querySelector('meet-participant-grid');
  for (const tile of Array.from(
    grid?.shadowRoot?.querySelectorAll('meet-participant-tile:not([local])') ?? [],
  )) {
    if (tile.shadowRoot?.querySelector('[part="name"]')?.textContent?.trim() !== name) continue;
    const video = tile.shadowRoot.querySelector('video');
    const track = (video?.srcObject as MediaStream | null)?.getVideoTracks()[0];
    return { frames: video?.getVideoPlaybackQuality().totalVideoFrames ?? 0, track: track?.id ?? null };
  }
  return { frames: 0, track: null };
};

const phaseOf = (page: Page) =>
  page.evaluate(() => document.querySelector('meet-room')?.getAttribute('phase') ?? null);

/** Polls until `done` (at most 30 s); the time it became true, in ms since `from`. */
async function timeUntil(from: number, done: () => Promise<boolean>): Promise<number> {
  while (Date.now() - from < 30_000) {
    if (await done()) return Date.now() - from;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return NaN;
}

export async function measureReconnect(
  stack: MediaStack,
  hostSite: StaticServer,
  scenario: ReconnectScenario,
  runs: number,
): Promise<ReconnectResult[]> {
  const browser: Browser = await chromium.launch({
    executablePath: findChromium(),
    args: chromiumArgs({ media: true }),
  });
  const results: ReconnectResult[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const room = `reconnect-${scenario.replace('+', '-')}-${Date.now()}-${run}`;
      const proxy = scenario === 'restart' ? null : await startTcpProxy(stack.worker.port);
      const open = async (name: string, server: string): Promise<Page> => {
        const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
        // tsx keeps function names with a `__name` helper that the page does not have.
        await context.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
        const page = await context.newPage();
        await page.goto(`${hostSite.url}/?${new URLSearchParams({ room, server }).toString()}`);
        await page.getByRole('button', { name: /^Camera/ }).click();
        await page.getByRole('button', { name: /^Microphone/ }).click();
        await page.getByLabel('Your name').fill(name);
        await page.getByRole('button', { name: 'Join' }).click();
        return page;
      };
      const ann = await open('Ann', proxy?.url ?? stack.worker.url);
      const bob = await open('Bob', stack.worker.url);
      const flowing = async (page: Page, name: string) => (await page.evaluate(TILE_VIDEO, name)).frames > 5;
      await timeUntil(Date.now(), async () => (await flowing(ann, 'Bob')) && (await flowing(bob, 'Ann')));

      let restoredAt: number;
      if (scenario === 'restart') {
        await stack.restartWorker();
        restoredAt = Date.now();
      } else {
        const annSession = await ann.evaluate(
          () =>
            (
              document.querySelector('meet-room') as unknown as {
                meeting?: { mediaSessionId: string | null };
              }
            )?.meeting?.mediaSessionId ?? null,
        );
        proxy!.cut();
        // Her media path breaks too: the SFU loses her session.
        if (scenario === 'cut+media' && annSession) stack.sfu.sessions.get(annSession)?.close();
        await timeUntil(Date.now(), async () => (await phaseOf(ann)) === 'reconnecting');
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        proxy!.restore();
        restoredAt = Date.now();
      }
      const before = {
        ann: await ann.evaluate(TILE_VIDEO, 'Bob'),
        bob: await bob.evaluate(TILE_VIDEO, 'Ann'),
      };
      const newFrames = async (page: Page, name: string, was: { frames: number; track: string | null }) => {
        const now = await page.evaluate(TILE_VIDEO, name);
        return now.track !== was.track ? now.frames > 2 : now.frames >= was.frames + 3;
      };
      const [resumedMs, mediaMs] = await Promise.all([
        timeUntil(restoredAt, async () => (await phaseOf(ann)) === 'joined'),
        timeUntil(
          restoredAt,
          async () =>
            (await phaseOf(ann)) === 'joined' &&
            (await phaseOf(bob)) === 'joined' &&
            (await newFrames(ann, 'Bob', before.ann)) &&
            (await newFrames(bob, 'Ann', before.bob)),
        ),
      ]);
      results.push({ scenario, resumedMs, mediaMs });
      await Promise.all([ann.context().close(), bob.context().close()]);
      await proxy?.close();
    }
  } finally {
    await browser.close();
  }
  return results;
}
