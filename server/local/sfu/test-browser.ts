/**
 * For the local SFU's own tests: Chromium pages (fake camera and microphone)
 * with one RTCPeerConnection each, talking to the SFU's Calls API the way
 * `src/client/call-client.ts` does (browser offers to publish and to close,
 * SFU offers to pull), with no Worker in between.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { cameraEncodings } from '../../../src/client/media/layers.js';
import { chromiumArgs, findChromium } from '../dev/chromium.js';
import { startLocalSfu, type LocalSfu } from './calls-server.js';

export const TEST_APP = { appId: 'sfu-test', appSecret: 'sfu-test-secret' };

/** `*.localhost` is a secure context (getUserMedia); Playwright serves the page, no server needed. */
const PAGE_URL = 'http://sfu-test.localhost/';

interface Description {
  type: 'offer' | 'answer';
  sdp: string;
}

/** The camera layers Meetkit publishes (`cameraEncodings`), without its bitrate ceilings. */
export const SIMULCAST_ENCODINGS: RTCRtpEncodingParameters[] = cameraEncodings().map(
  ({ rid, scaleResolutionDownBy }) => ({ rid, scaleResolutionDownBy }),
);

/** A pull's or an update's `simulcast` object (CALLS-API.md). */
export interface Simulcast {
  preferredRid?: string;
  priorityOrdering?: string;
  ridNotAvailable?: string;
}

/** What the page's `inbound-rtp` stats say of one received video track. */
export interface InboundVideo {
  ssrc: number;
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
  packetsLost: number;
}

/** What the page keeps on `window`. */
interface PeerWindow {
  pc: RTCPeerConnection;
  /** Every `connectionState` the peer connection went through. */
  states: RTCPeerConnectionState[];
  /** While `watchFrames` runs: when framesDecoded last moved, and the longest wait for it. */
  frames?: { timer: ReturnType<typeof setInterval>; decoded: number; movedAt: number; longestStall: number };
}

/**
 * For a test file: one local SFU and one Chromium shared by its tests, and
 * the pages each test opened (`open()`) closed after it.
 */
export function useSfuAndBrowser() {
  let sfu: LocalSfu | undefined;
  let browser: Browser | undefined;
  const peers: BrowserPeer[] = [];
  beforeAll(async () => {
    [sfu, browser] = await Promise.all([startLocalSfu(TEST_APP), launchChromium()]);
  });
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((peer) => peer.page.context().close()));
  });
  afterAll(async () => {
    await browser?.close();
    await sfu?.close();
  });
  return {
    get sfu(): LocalSfu {
      return sfu!;
    },
    async open(): Promise<BrowserPeer> {
      const peer = await BrowserPeer.open(browser!, sfu!);
      peers.push(peer);
      return peer;
    },
    /** A publisher of a microphone and a camera, and a viewer pulling both (in that order, in one offer). */
    async publisherAndViewer() {
      const publisher = await this.open();
      await publisher.publish([
        { trackName: 'microphone', kind: 'audio' },
        { trackName: 'camera', kind: 'video' },
      ]);
      const viewer = await this.open();
      const [microphone, camera] = await viewer.pull([
        { sessionId: publisher.sessionId, trackName: 'microphone' },
        { sessionId: publisher.sessionId, trackName: 'camera' },
      ]);
      return { publisher, viewer, microphone: microphone!, camera: camera! };
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: chromiumArgs({ media: true }) });
}

/** A Chromium that can vanish without a word: `kill()` sends SIGKILL to its whole process group. */
export async function launchKillableChromium(): Promise<{ browser: Browser; kill(): void }> {
  const server = await chromium.launchServer({
    executablePath: findChromium(),
    args: chromiumArgs({ media: true }),
  });
  const browser = await chromium.connect(server.wsEndpoint());
  // Playwright starts the browser as the leader of a process group of its own.
  return { browser, kill: () => process.kill(-server.process().pid!, 'SIGKILL') };
}

/** A Calls API request; throws on an error status. */
export async function callsRequest<T>(
  sfu: LocalSfu,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${sfu.callsApiUrl}/apps/${TEST_APP.appId}${path}`, {
    method,
    headers: { authorization: `Bearer ${TEST_APP.appSecret}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

export async function newSession(sfu: LocalSfu): Promise<string> {
  return (await callsRequest<{ sessionId: string }>(sfu, 'POST', '/sessions/new')).sessionId;
}

export class BrowserPeer {
  /** The mid of each track this page publishes, by track name. */
  readonly published = new Map<string, string>();

  private constructor(
    readonly page: Page,
    readonly sessionId: string,
    private readonly sfu: LocalSfu,
  ) {}

  /** A page of its own (own context) with a fresh Calls session. */
  static async open(browser: Browser, sfu: LocalSfu): Promise<BrowserPeer> {
    const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
    const page = await context.newPage();
    await page.route(PAGE_URL, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>SFU test</title>' }),
    );
    await page.goto(PAGE_URL);
    await page.evaluate(() => {
      const w = window as unknown as PeerWindow;
      w.pc = new RTCPeerConnection();
      w.states = [];
      w.pc.addEventListener('connectionstatechange', () => w.states.push(w.pc.connectionState));
    });
    return new BrowserPeer(page, await newSession(sfu), sfu);
  }

  /**
   * Publishes new tracks from the fake devices with a browser offer, as the
   * call client does; a `simulcast` camera with `SIMULCAST_ENCODINGS`.
   */
  async publish(
    tracks: {
      trackName: string;
      kind: 'audio' | 'video';
      simulcast?: boolean;
      width?: number;
      height?: number;
    }[],
  ): Promise<void> {
    const { offer, mids } = await this.page.evaluate(
      async ({ wanted, encodings }) => {
        const w = window as unknown as PeerWindow;
        // A device track of its own for each, so that closing one stops no other.
        const devices = await Promise.all(
          wanted.map(({ kind, size }) => navigator.mediaDevices.getUserMedia({ [kind]: size ?? true })),
        );
        const transceivers = devices.map((stream, i) =>
          w.pc.addTransceiver(stream.getTracks()[0]!, {
            direction: 'sendonly',
            ...(wanted[i]!.simulcast ? { sendEncodings: encodings } : {}),
          }),
        );
        // A busy test machine would have Chrome scale the camera down (and drop layers with it).
        for (const { sender } of transceivers) {
          if (sender.track?.kind !== 'video') continue;
          await sender.setParameters({
            ...sender.getParameters(),
            degradationPreference: 'maintain-resolution',
          });
        }
        await w.pc.setLocalDescription();
        return {
          offer: w.pc.localDescription!.toJSON() as Description,
          mids: transceivers.map((t) => t.mid!),
        };
      },
      {
        wanted: tracks.map((t) => ({
          kind: t.kind,
          simulcast: t.simulcast === true,
          // The fake camera is 640×480 unless asked for another size.
          size: t.width && t.height ? { width: { exact: t.width }, height: { exact: t.height } } : undefined,
        })),
        encodings: SIMULCAST_ENCODINGS,
      },
    );
    const response = await callsRequest<{ sessionDescription: Description }>(
      this.sfu,
      'POST',
      `/sessions/${this.sessionId}/tracks/new`,
      {
        sessionDescription: offer,
        tracks: tracks.map((t, i) => ({ location: 'local', mid: mids[i], trackName: t.trackName })),
      },
    );
    await this.#setRemote(response.sessionDescription);
    tracks.forEach((t, i) => this.published.set(t.trackName, mids[i]!));
  }

  /** Pulls tracks: the SFU's offer, answered with `renegotiate`. Returns their mids. */
  async pull(sources: { sessionId: string; trackName: string; simulcast?: Simulcast }[]): Promise<string[]> {
    const { offer, mids } = await this.requestPull(sources);
    await this.answer(offer);
    return mids;
  }

  /** The first half of `pull`: `tracks/new` for the tracks; the SFU's offer is left unanswered. */
  async requestPull(sources: { sessionId: string; trackName: string; simulcast?: Simulcast }[]) {
    const response = await callsRequest<{
      sessionDescription: Description;
      tracks: { mid?: string; errorCode?: string }[];
    }>(this.sfu, 'POST', `/sessions/${this.sessionId}/tracks/new`, {
      tracks: sources.map((s) => ({ location: 'remote', ...s })),
    });
    const failed = response.tracks.find((t) => t.errorCode);
    if (failed) throw new Error(`pull failed: ${failed.errorCode}`);
    return { offer: response.sessionDescription, mids: response.tracks.map((t) => t.mid!) };
  }

  /** The second half of `pull`: answers the SFU's offer with `renegotiate`. */
  async answer(offer: Description): Promise<void> {
    const answer = await this.page.evaluate(async (sfuOffer) => {
      const w = window as unknown as PeerWindow;
      await w.pc.setRemoteDescription(sfuOffer);
      await w.pc.setLocalDescription();
      return w.pc.localDescription!.toJSON() as Description;
    }, offer);
    await callsRequest(this.sfu, 'PUT', `/sessions/${this.sessionId}/renegotiate`, {
      sessionDescription: answer,
    });
  }

  /** Keyframe requests (PLI) this page received for what it publishes, all layers together. */
  plisReceived(): Promise<number> {
    return this.page.evaluate(async () => {
      let count = 0;
      (await (window as unknown as PeerWindow).pc.getStats()).forEach((report: { type: string }) => {
        if (report.type === 'outbound-rtp') count += (report as RTCOutboundRtpStreamStats).pliCount ?? 0;
      });
      return count;
    });
  }

  /** Stops transceivers and closes their tracks with the browser's offer, as the call client does. */
  async close(mids: string[]): Promise<void> {
    const offer = await this.page.evaluate(async (closing) => {
      const w = window as unknown as PeerWindow;
      for (const transceiver of w.pc.getTransceivers()) {
        if (!closing.includes(transceiver.mid!)) continue;
        transceiver.sender.track?.stop();
        transceiver.stop();
      }
      await w.pc.setLocalDescription();
      return w.pc.localDescription!.toJSON() as Description;
    }, mids);
    const response = await callsRequest<{ sessionDescription: Description }>(
      this.sfu,
      'PUT',
      `/sessions/${this.sessionId}/tracks/close`,
      { tracks: mids.map((mid) => ({ mid })), force: false, sessionDescription: offer },
    );
    await this.#setRemote(response.sessionDescription);
    for (const [name, mid] of this.published) if (mids.includes(mid)) this.published.delete(name);
  }

  /** Video frames decoded, or audio packets received, on the track with this mid. */
  received(mid: string): Promise<number> {
    return this.page.evaluate(async (wanted) => {
      const w = window as unknown as PeerWindow;
      let count = 0;
      (await w.pc.getStats()).forEach((report: { type: string; mid?: string; kind?: string }) => {
        if (report.type !== 'inbound-rtp' || report.mid !== wanted) return;
        const inbound = report as RTCInboundRtpStreamStats;
        count = (inbound.kind === 'video' ? inbound.framesDecoded : inbound.packetsReceived) ?? 0;
      });
      return count;
    }, mid);
  }

  /** `tracks/update` of a pulled track's simulcast settings; returns the answer (items unchecked). */
  update(mid: string, source: { sessionId: string; trackName: string }, simulcast: Simulcast) {
    return callsRequest<{
      requiresImmediateRenegotiation: boolean;
      tracks: { mid?: string; errorCode?: string }[];
    }>(this.sfu, 'PUT', `/sessions/${this.sessionId}/tracks/update`, {
      tracks: [{ location: 'remote', mid, ...source, simulcast }],
    });
  }

  /** The received video on this mid: frames decoded and their size (zeros before the first frame). */
  inboundVideo(mid: string): Promise<InboundVideo> {
    return this.page.evaluate(async (wanted) => {
      const w = window as unknown as PeerWindow;
      const found = { ssrc: 0, framesDecoded: 0, frameWidth: 0, frameHeight: 0, packetsLost: 0 };
      (await w.pc.getStats()).forEach((report: { type: string; mid?: string; kind?: string }) => {
        if (report.type !== 'inbound-rtp' || report.mid !== wanted || report.kind !== 'video') return;
        const inbound = report as RTCInboundRtpStreamStats;
        found.ssrc = inbound.ssrc;
        found.framesDecoded = inbound.framesDecoded ?? 0;
        found.frameWidth = inbound.frameWidth ?? 0;
        found.frameHeight = inbound.frameHeight ?? 0;
        found.packetsLost = inbound.packetsLost ?? 0;
      });
      return found;
    }, mid);
  }

  /** Starts watching the video on this mid for stalls: framesDecoded read every 20 ms. */
  async watchFrames(mid: string): Promise<void> {
    await this.page.evaluate((wanted) => {
      const w = window as unknown as PeerWindow;
      const frames = {
        timer: 0 as unknown as ReturnType<typeof setInterval>,
        decoded: -1,
        movedAt: 0,
        longestStall: 0,
      };
      frames.timer = setInterval(() => {
        void w.pc.getStats().then((stats) => {
          const now = performance.now();
          stats.forEach((report: { type: string; mid?: string; kind?: string }) => {
            if (report.type !== 'inbound-rtp' || report.mid !== wanted || report.kind !== 'video') return;
            const decoded = (report as RTCInboundRtpStreamStats).framesDecoded ?? 0;
            if (decoded === frames.decoded) return;
            if (frames.decoded >= 0)
              frames.longestStall = Math.max(frames.longestStall, now - frames.movedAt);
            frames.decoded = decoded;
            frames.movedAt = now;
          });
        });
      }, 20);
      w.frames = frames;
    }, mid);
  }

  /** Stops `watchFrames`: the longest time, in ms, between two reads that saw new frames decoded. */
  longestStall(): Promise<number> {
    return this.page.evaluate(() => {
      const w = window as unknown as PeerWindow;
      clearInterval(w.frames!.timer);
      return w.frames!.longestStall;
    });
  }

  /** Turns one simulcast layer of a published track on or off (`RTCRtpEncodingParameters.active`). */
  async setLayerActive(trackName: string, rid: string, active: boolean): Promise<void> {
    await this.page.evaluate(
      async ({ mid, rid, active }) => {
        const { sender } = (window as unknown as PeerWindow).pc.getTransceivers().find((t) => t.mid === mid)!;
        const parameters = sender.getParameters();
        for (const encoding of parameters.encodings) if (encoding.rid === rid) encoding.active = active;
        await sender.setParameters(parameters);
      },
      { mid: this.published.get(trackName)!, rid, active },
    );
  }

  /** The remote description the page has now (to show that nothing was renegotiated). */
  remoteSdp(): Promise<string | undefined> {
    return this.page.evaluate(() => (window as unknown as PeerWindow).pc.remoteDescription?.sdp);
  }

  /** The first mid of the BUNDLE group this page last negotiated: the m-line whose transport it uses. */
  bundleTag(): Promise<string | undefined> {
    return this.page.evaluate(
      () => /^a=group:BUNDLE (\S+)/m.exec((window as unknown as PeerWindow).pc.localDescription!.sdp)?.[1],
    );
  }

  connectionState(): Promise<RTCPeerConnectionState> {
    return this.page.evaluate(() => (window as unknown as PeerWindow).pc.connectionState);
  }

  /** Every connection state so far, in order. */
  states(): Promise<RTCPeerConnectionState[]> {
    return this.page.evaluate(() => (window as unknown as PeerWindow).states);
  }

  /** `pc.close()` in the page. */
  async closePeerConnection(): Promise<void> {
    await this.page.evaluate(() => (window as unknown as PeerWindow).pc.close());
  }

  async #setRemote(description: Description): Promise<void> {
    await this.page.evaluate(async (answer) => {
      await (window as unknown as PeerWindow).pc.setRemoteDescription(answer);
    }, description);
  }
}
