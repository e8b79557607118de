/**
 * Join → first remote video frame: Ann, camera on in the lobby, clicks Join
 * on the third-party demo page once her media connection is up (or after
 * `LOBBY_MS`); we time until Bob's page (already in the meeting, nothing on)
 * presents her first decoded frame. Then Cy, who turned nothing on, clicks
 * Join; we time until her own page presents Ann's first frame (she had no
 * session before joining: what a lobby warm-up could still save shows in
 * her steps). Next to it, in the same browser, the peer-to-peer floor: two
 * RTCPeerConnections in one page, from createOffer to the first frame
 * presented.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs, findChromium } from '../server/local/dev/chromium.js';
import type { StaticServer } from '../server/local/dev/static-server.js';
import {
  coldJoinSteps,
  joinSteps,
  mediaConnected,
  readTrace,
  TRACE_SCRIPT,
  type JoinSteps,
} from './join-trace.js';

/** Resolves with the wall-clock time of the first frame presented by a remote tile's video. */
const FIRST_REMOTE_FRAME = () =>
  new Promise<number>((resolve) => {
    const find = (): HTMLVideoElement | null => {
      const grid = document.querySelector('meet-room')?.shadowRoot?.querySelector('meet-participant-grid');
      const tiles = grid?.shadowRoot?.querySelectorAll('meet-participant-tile:not([local])');
      // The first with video: a tile of someone with nothing on has none.
      for (let i = 0; i < (tiles?.length ?? 0); i++) {
        const video = tiles!.item(i).shadowRoot?.querySelector('video');
        if ((video?.srcObject as MediaStream | null | undefined)?.getVideoTracks().length) return video!;
      }
      return null;
    };
    const poll = () => {
      const video = find();
      if (!video) return void requestAnimationFrame(poll);
      video.requestVideoFrameCallback((now) => resolve(performance.timeOrigin + now));
    };
    poll();
  });

/** Clicks the lobby's Join button; resolves with the wall-clock time of the click. */
const CLICK_JOIN = () => {
  const join = document
    .querySelector('meet-room')!
    .shadowRoot!.querySelector<HTMLButtonElement>('button.primary')!;
  const at = performance.timeOrigin + performance.now();
  join.click();
  return at;
};

const P2P_FIRST_FRAME = async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  const start = performance.now();
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && void b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && void a.addIceCandidate(e.candidate);
  const video = document.createElement('video');
  video.muted = true;
  document.body.append(video);
  const frame = new Promise<number>((resolve) => {
    b.ontrack = (e) => {
      video.srcObject = new MediaStream([e.track]);
      void video.play();
      video.requestVideoFrameCallback((now) => resolve(now));
    };
  });
  for (const track of stream.getTracks()) a.addTrack(track, stream);
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  const elapsed = (await frame) - start;
  a.close();
  b.close();
  video.remove();
  for (const track of stream.getTracks()) track.stop();
  return elapsed;
};

export interface JoinToFrameResult {
  sfuMs: number[];
  p2pMs: number[];
  /** Where the time of each run went (join-trace.ts). */
  steps: JoinSteps[];
  /** Cy, nothing on, clicks Join → Ann's first frame on Cy's page. */
  coldMs: number[];
  coldSteps: JoinSteps[];
  /** How long Ann waited in the lobby, name typed, before clicking Join. */
  lobbyMs: number[];
}

/** The longest Ann waits in the lobby for her media connection before clicking Join. */
export const LOBBY_MS = 3_000;

export async function measureJoinToFrame(
  workerUrl: string,
  hostSite: StaticServer,
  runs: number,
  browser?: Browser,
): Promise<JoinToFrameResult> {
  const own =
    browser ??
    (await chromium.launch({ executablePath: findChromium(), args: chromiumArgs({ media: true }) }));
  const result: JoinToFrameResult = {
    sfuMs: [],
    p2pMs: [],
    steps: [],
    coldMs: [],
    coldSteps: [],
    lobbyMs: [],
  };
  try {
    for (let run = 0; run < runs; run++) {
      const room = `bench-${Date.now()}-${run}`;
      const open = async (): Promise<Page> => {
        const context = await own.newContext({ permissions: ['camera', 'microphone'] });
        // tsx keeps function names with a `__name` helper that the page does not have.
        await context.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
        await context.addInitScript({ content: TRACE_SCRIPT });
        const page = await context.newPage();
        await page.goto(`${hostSite.url}/?${new URLSearchParams({ room, server: workerUrl }).toString()}`);
        return page;
      };
      const [ann, bob, cy] = await Promise.all([open(), open(), open()]);
      await bob.getByLabel('Your name').fill('Bob');
      await bob.getByRole('button', { name: 'Join' }).click();
      await bob.locator('meet-participant-grid meet-participant-tile[local]').waitFor();
      await ann.getByRole('button', { name: /^Camera/ }).click();
      await ann.locator('[part="preview"]:not([camera-off])').waitFor();
      await ann.getByLabel('Your name').fill('Ann');
      await ann.getByRole('button', { name: 'Join' }).waitFor();
      // Ann takes a moment in the lobby, as a person typing a name does: until her camera's media
      // connection is up (the lobby warm-up), at most LOBBY_MS (a widget with no warm-up waits that long).
      const lobbyFrom = Date.now();
      const connected = ann.waitForFunction(mediaConnected, undefined, { timeout: LOBBY_MS });
      // Not connected by then: Ann clicks anyway.
      await connected.catch(() => undefined);
      result.lobbyMs.push(Date.now() - lobbyFrom);

      const frame = bob.evaluate(FIRST_REMOTE_FRAME);
      const joinedAt = await ann.evaluate(CLICK_JOIN);
      const frameAt = await frame;
      result.sfuMs.push(frameAt - joinedAt);
      result.steps.push(
        joinSteps(joinedAt, frameAt, await ann.evaluate(readTrace), await bob.evaluate(readTrace)),
      );

      await cy.getByLabel('Your name').fill('Cy');
      const cyFrame = cy.evaluate(FIRST_REMOTE_FRAME);
      const cyJoinedAt = await cy.evaluate(CLICK_JOIN);
      const cyFrameAt = await cyFrame;
      result.coldMs.push(cyFrameAt - cyJoinedAt);
      result.coldSteps.push(coldJoinSteps(cyJoinedAt, cyFrameAt, await cy.evaluate(readTrace)));

      result.p2pMs.push(await bob.evaluate(P2P_FIRST_FRAME));
      await Promise.all([ann, bob, cy].map((page) => page.context().close()));
    }
  } finally {
    if (!browser) await own.close();
  }
  return result;
}
