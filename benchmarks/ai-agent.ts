/**
 * The AI agent's own pipeline (room, Calls, negotiation), with the model
 * taken out: the local OpenAI Realtime stand-in answers at once. Two
 * visitors of the third-party demo page, microphones on, cameras off:
 *   invite  Ann's click on "Invite AI" → the agent's voice is pulled on Bob's
 *           page (its tile has a live audio track);
 *   answer  Bob holds "Talk to AI" for a second of his microphone, then lets
 *           go; from the release → the first packet of the answer arrives on
 *           Ann's page (her receiver's `packetsReceived` for the agent's track
 *           grows; the track carries nothing between answers).
 * Each run invites, talks once and removes the agent, in one room.
 */
import { chromium, type Page } from 'playwright-core';
import { chromiumArgs, findChromium } from '../server/local/dev/chromium.js';
import type { MediaStack } from '../server/local/dev/media-stack.js';
import type { StaticServer } from '../server/local/dev/static-server.js';
import type { LocalRealtime } from '../server/local/realtime/server.js';
import { joinWithMicrophone } from './visitor-page.js';

export interface AiAgentResult {
  /** Click on Invite AI → the agent's audio track in the other page's grid (ms). */
  inviteMs: number;
  /** Release of Talk to AI → the answer's first packet on the other page (ms). */
  answerMs: number;
}

/** Every RTCPeerConnection the page makes, for reading its stats. */
const KEEP_PEER_CONNECTIONS = `
  globalThis.__name = (fn) => fn; // tsx keeps function names with a helper the page lacks.
  const made = [];
  const Native = RTCPeerConnection;
  globalThis.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); made.push(this); }
  };
  globalThis.__meetkitPeers = made;
`;

/** The id of the audio track in the AI's tile on this page, or null. */
const AI_TRACK = () => {
  const grid = document.querySelector('meet-room')?.shadowRoot?.querySelector('meet-participant-grid');
  const tile = grid?.shadowRoot?.querySelector('meet-participant-tile[ai-state]');
  const audio = tile?.shadowRoot?.querySelector('audio');
  const track = (audio?.srcObject as MediaStream | null)?.getAudioTracks()[0];
  return track && track.readyState === 'live' ? track.id : null;
};

/** Packets received so far for one track, over every peer connection of the page. */
const PACKETS_OF = async (trackId: string) => {
  let packets = 0;
  const peers = (globalThis as unknown as { __meetkitPeers: RTCPeerConnection[] }).__meetkitPeers;
  for (const peer of peers) {
    if (peer.connectionState === 'closed') continue;
    const receiver = peer.getReceivers().find((r) => r.track.id === trackId);
    if (!receiver) continue;
    (await receiver.getStats()).forEach((stat: { type: string; packetsReceived?: number }) => {
      if (stat.type === 'inbound-rtp') packets += stat.packetsReceived ?? 0;
    });
  }
  return packets;
};

/** Resolves with Date.now() once the page sees more than `before` packets of the track (in-page polling, 5 ms). */
const FIRST_PACKET_AFTER = async ([trackId, before]: [string, number]) => {
  const packetsOf = (globalThis as unknown as { __packetsOf: (id: string) => Promise<number> }).__packetsOf;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if ((await packetsOf(trackId)) > before) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return NaN;
};

async function until(done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await done()) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}

export async function measureAiAgent(
  stack: MediaStack,
  hostSite: StaticServer,
  realtime: LocalRealtime,
  runs: number,
): Promise<AiAgentResult[]> {
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: chromiumArgs({ media: true }),
  });
  const room = `ai-bench-${Date.now()}`;
  const open = async (name: string): Promise<Page> => {
    const page = await joinWithMicrophone(browser, {
      hostSite,
      server: stack.worker.url,
      room,
      name,
      initScript: KEEP_PEER_CONNECTIONS,
    });
    await page.locator('meet-ai-toggle').waitFor();
    await page.evaluate(`globalThis.__packetsOf = ${PACKETS_OF.toString()}`);
    return page;
  };
  const results: AiAgentResult[] = [];
  try {
    const ann = await open('Ann');
    const bob = await open('Bob');
    const toggle = (page: Page) => page.locator('meet-room meet-ai-toggle');
    const talk = toggle(bob).getByRole('button', { name: 'Talk to AI' });
    for (let run = 0; run < runs; run++) {
      const invitedAt = Date.now();
      await toggle(ann).getByRole('button', { name: 'Invite AI' }).click();
      const pulledAt = await until(async () => (await bob.evaluate(AI_TRACK)) !== null);
      // Talking needs the agent listening on Bob's page, and its track on Ann's.
      await until(async () => (await talk.isEnabled()) && (await ann.evaluate(AI_TRACK)) !== null);
      const annTrack = (await ann.evaluate(AI_TRACK))!;

      await talk.hover();
      await bob.mouse.down();
      const heard = realtime.stats().audioPacketsReceived;
      // A second of his voice at the stand-in (20 ms packets).
      await until(() => realtime.stats().audioPacketsReceived - heard >= 50);
      const before = await ann.evaluate(PACKETS_OF, annTrack);
      const firstPacket = ann.evaluate(FIRST_PACKET_AFTER, [annTrack, before] as [string, number]);
      const releasedAt = Date.now();
      await bob.mouse.up();
      const answeredAt = await firstPacket;
      results.push({ inviteMs: pulledAt - invitedAt, answerMs: answeredAt - releasedAt });

      await toggle(ann).getByRole('button', { name: 'Remove AI' }).click();
      await until(async () => (await toggle(ann).getByRole('button', { name: 'Invite AI' }).count()) === 1);
      await until(() => realtime.stats().callsOpen === 0);
    }
  } finally {
    await browser.close();
  }
  return results;
}
