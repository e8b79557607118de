import { expect } from '@open-wc/testing';
import {
  qualitySamples,
  readConnectionSample,
  type ConnectionSample,
  type ReceivedCounters,
  type Stat,
} from './connection-stats.js';
import type { PulledTrack } from './pull-plan.js';
import { sharedStats } from './shared-stats.js';

/** A getStats report, as Chromium words it (only the fields read). */
const report = (...stats: Stat[]) => new Map(stats.map((stat) => [stat.id, stat]));

const annMic: PulledTrack = { ref: 'a/microphone', mid: '0', participantId: 'ann', slot: 'microphone' };
const annCam: PulledTrack = { ref: 'a/camera', mid: '1', participantId: 'ann', slot: 'camera' };
const bobMic: PulledTrack = { ref: 'b/microphone', mid: '2', participantId: 'bob', slot: 'microphone' };

describe('readConnectionSample', () => {
  it('reads each pulled track by its mid, what we send, and the selected pair', () => {
    const sample = readConnectionSample(
      report(
        { id: 'T01', type: 'transport', bytesReceived: 5_000, selectedCandidatePairId: 'CP1' },
        { id: 'CP0', type: 'candidate-pair', currentRoundTripTime: 0.9, bytesReceived: 1 },
        {
          id: 'CP1',
          type: 'candidate-pair',
          currentRoundTripTime: 0.04,
          bytesReceived: 4_900,
          timestamp: 50_000,
          lastPacketReceivedTimestamp: 49_700,
        },
        {
          id: 'IA',
          type: 'inbound-rtp',
          kind: 'audio',
          mid: '0',
          bytesReceived: 900,
          packetsReceived: 90,
          packetsLost: 10,
          jitter: 0.012,
        },
        {
          id: 'OA',
          type: 'remote-inbound-rtp',
          kind: 'audio',
          fractionLost: 0.25,
          roundTripTime: 0.05,
          jitter: 0.003,
        },
        { id: 'X', type: 'codec' },
      ),
      [annMic, annCam],
      1_000,
    );
    expect(sample).to.deep.equal({
      at: 1_000,
      bytesReceived: 5_000,
      silentMs: 300,
      roundTripTime: 0.04,
      received: [
        { ...annMic, bytesReceived: 900, packetsReceived: 90, packetsLost: 10, jitter: 0.012 },
        // Pulled, nothing arrived yet: no statistics, zero.
        { ...annCam, bytesReceived: 0, packetsReceived: 0, packetsLost: 0, jitter: null },
      ],
      sent: [{ kind: 'audio', fractionLost: 0.25, roundTripTime: 0.05, jitter: 0.003 }],
    });
  });

  it("takes the nominated pair's bytes where there are no transport statistics (Firefox)", () => {
    const sample = readConnectionSample(
      report(
        { id: 'CP0', type: 'candidate-pair', nominated: false, state: 'succeeded', bytesReceived: 7 },
        {
          id: 'CP1',
          type: 'candidate-pair',
          nominated: true,
          state: 'succeeded',
          bytesReceived: 700,
          currentRoundTripTime: 0.02,
        },
      ),
      [],
      0,
    );
    expect([sample.bytesReceived, sample.roundTripTime, sample.silentMs]).to.deep.equal([700, 0.02, null]);
  });
});

const counters = (track: PulledTrack, fields: Partial<ReceivedCounters>): ReceivedCounters => ({
  ...track,
  bytesReceived: 0,
  packetsReceived: 0,
  packetsLost: 0,
  jitter: null,
  ...fields,
});
const sample = (fields: Partial<ConnectionSample>): ConnectionSample => ({
  at: 0,
  bytesReceived: 0,
  silentMs: null,
  roundTripTime: 0.02,
  received: [],
  sent: [],
  ...fields,
});

describe('qualitySamples', () => {
  const before = sample({
    received: [
      counters(annMic, { bytesReceived: 1_000, packetsReceived: 100, packetsLost: 0 }),
      counters(annCam, { bytesReceived: 50_000, packetsReceived: 400, packetsLost: 0 }),
      counters(bobMic, { bytesReceived: 1_000, packetsReceived: 100 }),
    ],
  });
  const after = sample({
    at: 500,
    received: [
      // Ann: 7 of 25 audio packets lost, video clean; Bob: nothing new.
      counters(annMic, { bytesReceived: 1_180, packetsReceived: 118, packetsLost: 7, jitter: 0.02 }),
      counters(annCam, { bytesReceived: 80_000, packetsReceived: 440, packetsLost: 0, jitter: 0.2 }),
      counters(bobMic, { bytesReceived: 1_000, packetsReceived: 100 }),
    ],
    sent: [
      { kind: 'audio', fractionLost: 0.3, roundTripTime: 0.06, jitter: 0.004 },
      { kind: 'video', fractionLost: 0.1, roundTripTime: 0.08, jitter: 0.04 },
    ],
  });
  const sendingAll = () => true;

  it("others' from what arrives of them, yours from what the SFU reports", () => {
    const samples = qualitySamples(before, after, {
      ids: ['me', 'ann', 'bob'],
      selfId: 'me',
      sending: sendingAll,
      connectionSilent: false,
    });
    expect(Object.fromEntries(samples)).to.deep.equal({
      // The worst track, the worst round trip; jitter of audio only.
      me: { loss: 0.3, rttMs: 80, jitterMs: 4, silent: false },
      // The worst track's loss (7 of 25); audio jitter only (video's measures packet pacing too).
      ann: { loss: 0.28, rttMs: 20, jitterMs: 20, silent: false },
      // Bob's microphone is on and nothing came: silent.
      bob: { loss: null, rttMs: 20, jitterMs: null, silent: true },
    });
  });

  it('a participant whose tracks are off is not silent, and says nothing of loss', () => {
    const samples = qualitySamples(before, after, {
      ids: ['bob', 'cy'],
      selfId: 'me',
      sending: (track) => track.participantId !== 'bob',
      connectionSilent: false,
    });
    expect(samples.get('bob')).to.deep.equal({ loss: null, rttMs: 20, jitterMs: null, silent: false });
    expect(samples.get('cy'), 'nothing pulled of Cy').to.deep.equal({
      loss: null,
      rttMs: 20,
      jitterMs: null,
      silent: false,
    });
  });

  it('you are silent when your connection is', () => {
    const samples = qualitySamples(before, sample({ at: 500 }), {
      ids: ['me'],
      selfId: 'me',
      sending: sendingAll,
      connectionSilent: true,
    });
    expect(samples.get('me')).to.deep.equal({ loss: null, rttMs: 20, jitterMs: null, silent: true });
  });

  it('too few packets in the interval say nothing of loss; late packets are no negative loss', () => {
    const few = qualitySamples(
      sample({ received: [counters(annMic, { bytesReceived: 10, packetsReceived: 10, packetsLost: 5 })] }),
      sample({ received: [counters(annMic, { bytesReceived: 13, packetsReceived: 13, packetsLost: 3 })] }),
      { ids: ['ann'], selfId: 'me', sending: sendingAll, connectionSilent: false },
    );
    expect(few.get('ann')!.loss).to.equal(null);
  });
});

describe('sharedStats', () => {
  it('asks the connection once for readers within 90 ms', () => {
    let asked = 0;
    const pc = {
      getStats: () => {
        asked++;
        return Promise.resolve(new Map() as unknown as RTCStatsReport);
      },
    } as unknown as RTCPeerConnection;
    const first = sharedStats(pc, 1_000);
    expect(sharedStats(pc, 1_089)).to.equal(first);
    expect(asked).to.equal(1);
    expect(sharedStats(pc, 1_090)).to.not.equal(first);
    expect(asked).to.equal(2);
  });
});
