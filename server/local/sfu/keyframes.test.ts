/**
 * When the SFU asks a publisher for a keyframe (PLI): for a subscriber that
 * can receive it, never for one still connecting. Chrome makes at most one
 * keyframe per 300 ms, so one spent on a subscriber that cannot get it yet
 * made that subscriber's own request, when it connected, go unanswered: its
 * first frame came a retry (250 ms) later. Werift peers stand in for both
 * browsers; the publisher counts the PLIs it receives.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import { tracksResponse } from '../../calls/schema.js';
import { startLocalSfu, type LocalSfu } from './calls-server.js';
import { createPeer } from './peer.js';
import { TEST_APP } from './test-browser.js';
import { callsApi } from './test-werift.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => undefined)));
});
const POLL = { timeout: 5_000, interval: 10 };

async function startSfu(): Promise<LocalSfu> {
  const sfu = await startLocalSfu(TEST_APP);
  cleanups.push(() => sfu.close());
  return sfu;
}

function peer(): RTCPeerConnection {
  const pc = createPeer();
  cleanups.push(() => pc.close());
  return pc;
}

async function newSession(sfu: LocalSfu): Promise<string> {
  const response = await callsApi(sfu, 'POST', '/sessions/new');
  return (response.body as { sessionId: string }).sessionId;
}

const local = (pc: RTCPeerConnection) => ({
  type: pc.localDescription!.type as 'offer' | 'answer',
  sdp: pc.localDescription!.sdp,
});

/** A VP8-like camera published with the peer's offer, sending; counts the PLIs it gets. */
async function publishCamera(sfu: LocalSfu) {
  const sessionId = await newSession(sfu);
  const pc = peer();
  const track = new MediaStreamTrack({ kind: 'video' });
  const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
  const plis: number[] = [];
  transceiver.sender.onPictureLossIndication.subscribe(() => plis.push(Date.now()));
  await pc.setLocalDescription(await pc.createOffer());
  const published = await callsApi(sfu, 'POST', `/sessions/${sessionId}/tracks/new`, {
    sessionDescription: local(pc),
    tracks: [{ location: 'local', mid: transceiver.mid, trackName: 'camera' }],
  });
  await pc.setRemoteDescription(tracksResponse.parse(published.body).sessionDescription!);
  let sequenceNumber = 0;
  const timer = setInterval(() => {
    sequenceNumber += 1;
    const header = new RtpHeader({
      payloadType: 96,
      sequenceNumber,
      timestamp: sequenceNumber * 3000,
      ssrc: 42,
    });
    track.writeRtp(new RtpPacket(header, Buffer.from([0x10, 0, 0, 0, 9])));
  }, 10);
  cleanups.push(() => Promise.resolve(clearInterval(timer)));
  await expect.poll(() => sfu.sessions.get(sessionId)?.connected, POLL).toBe(true);
  return { sessionId, plis };
}

describe('keyframe requests', () => {
  it('are made for a subscriber once it is connected, not while it connects', async () => {
    const sfu = await startSfu();
    const camera = await publishCamera(sfu);
    // A viewer pulls the camera right away, but takes its time answering: it is still connecting
    // when the SFU's own retries after the publisher connected (0, 250 and 1,000 ms) come.
    const viewerSession = await newSession(sfu);
    const pulled = await callsApi(sfu, 'POST', `/sessions/${viewerSession}/tracks/new`, {
      tracks: [{ location: 'remote', sessionId: camera.sessionId, trackName: 'camera' }],
    });
    const offer = tracksResponse.parse(pulled.body).sessionDescription!;
    // (Not a wait for something: the viewer being slow is the case under test.)
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(camera.plis).toEqual([]);

    const viewer = peer();
    await viewer.setRemoteDescription(offer);
    await viewer.setLocalDescription(await viewer.createAnswer());
    const answered = await callsApi(sfu, 'PUT', `/sessions/${viewerSession}/renegotiate`, {
      sessionDescription: local(viewer),
    });
    expect(answered.status).toBe(200);
    await expect.poll(() => sfu.sessions.get(viewerSession)?.connected, POLL).toBe(true);
    await expect.poll(() => camera.plis.length, POLL).toBeGreaterThan(0);
  });
});
