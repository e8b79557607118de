import { expect } from '@open-wc/testing';
import type { ConnectionSample, ReceivedCounters } from './connection-stats.js';
import { watchDelivery, type DeliveryState } from './delivery-watch.js';

/** One reading: the connection's bytes, and each pulled track's (`ref@mid`: bytes). */
type Reading = {
  at: number;
  connection: number;
  tracks: Record<string, number>;
  off?: string[];
  /** The browser's own count of how long nothing arrived. */
  silentMs?: number;
};

const sampleOf = ({ at, connection, tracks, silentMs }: Reading): ConnectionSample => ({
  at,
  bytesReceived: connection,
  silentMs: silentMs ?? null,
  roundTripTime: null,
  sent: [],
  received: Object.entries(tracks).map(([key, bytes]): ReceivedCounters => {
    const [ref = '', mid = ''] = key.split('@');
    return {
      ref,
      mid,
      participantId: ref.split('/')[0]!,
      slot: ref.endsWith('camera') ? 'camera' : 'microphone',
      bytesReceived: bytes,
      packetsReceived: 0,
      packetsLost: 0,
      jitter: null,
    };
  }),
});

/** Feeds readings in order; after each: whether the connection is silent, and what stalled. */
function run(readings: Reading[]) {
  let state: DeliveryState | null = null;
  return readings.map((reading) => {
    const verdict = watchDelivery(state, sampleOf(reading), (track) => !reading.off?.includes(track.ref));
    state = verdict.state;
    return { at: reading.at, silent: verdict.connectionSilent, stalled: verdict.stalled };
  });
}

/** Half-second readings from `from` to `to` (ms), each made by `reading(at, i)`. */
function every500(
  from: number,
  to: number,
  reading: (at: number, i: number) => Omit<Reading, 'at'>,
): Reading[] {
  const readings: Reading[] = [];
  for (let at = from, i = 0; at <= to; at += 500, i++) readings.push({ at, ...reading(at, i) });
  return readings;
}

describe('watchDelivery', () => {
  it('media arriving: nothing silent, nothing stalled', () => {
    const verdicts = run(
      every500(0, 10_000, (_, i) => ({ connection: i * 100, tracks: { 'a/microphone@0': i * 50 } })),
    );
    expect(verdicts.every((v) => !v.silent && v.stalled.length === 0)).to.be.true;
  });

  it('nothing at all arriving for 0.8 s, while a microphone is on: the connection is silent', () => {
    const verdicts = run([
      ...every500(0, 2_000, (_, i) => ({ connection: i * 100, tracks: { 'a/microphone@0': i * 50 } })),
      ...every500(2_500, 5_000, () => ({ connection: 400, tracks: { 'a/microphone@0': 200 } })),
    ]);
    expect(verdicts.filter((v) => v.silent).map((v) => v.at)).to.deep.equal([
      3_000, 3_500, 4_000, 4_500, 5_000,
    ]);
    expect(
      verdicts.flatMap((v) => v.stalled),
      'the connection, not one track: nothing to pull again',
    ).to.deep.equal([]);
  });

  it("the browser's clock for the last packet tells silence sooner than bytes seen between readings", () => {
    // The last packet arrives at 2.1 s: bytes grew between the readings at 2 s and 2.5 s.
    const readings = (clock: boolean) =>
      run(
        every500(0, 4_000, (at) => ({
          connection: Math.min(at, 2_100),
          tracks: { 'a/microphone@0': Math.min(at, 2_100) },
          ...(clock ? { silentMs: Math.max(0, at - 2_100) } : {}),
        })),
      )
        .filter((v) => v.silent)
        .map((v) => v.at)[0];
    expect([readings(true), readings(false)]).to.deep.equal([3_000, 3_500]);
  });

  it('nothing arriving while nothing should (everyone muted) is not silence', () => {
    const verdicts = run(
      every500(0, 5_000, () => ({
        connection: 400,
        tracks: { 'a/microphone@0': 200 },
        off: ['a/microphone'],
      })),
    );
    expect(verdicts.some((v) => v.silent || v.stalled.length > 0)).to.be.false;
  });

  it('one track stops while the rest arrives: stalled after 3 s, reported once', () => {
    const verdicts = run(
      every500(0, 8_000, (at, i) => ({
        connection: i * 100,
        tracks: { 'a/microphone@0': i * 50, 'a/camera@1': Math.min(at, 2_000) },
      })),
    );
    expect(verdicts.filter((v) => v.stalled.length > 0)).to.deep.equal([
      { at: 5_000, silent: false, stalled: ['a/camera'] },
    ]);
  });

  it('a pull that never delivers is stalled 3 s after it appeared', () => {
    const verdicts = run(
      every500(0, 5_000, (at, i) => ({
        connection: i * 100,
        tracks: { 'a/microphone@0': i * 50, ...(at >= 1_000 ? { 'a/camera@1': 0 } : {}) },
      })),
    );
    expect(verdicts.filter((v) => v.stalled.length > 0).map((v) => v.at)).to.deep.equal([4_000]);
  });

  it('a camera turned on again starts its clock then, not when it last sent', () => {
    const verdicts = run(
      every500(0, 12_000, (at, i) => ({
        connection: i * 100,
        // Off from 1 s to 6 s; on again at 6 s, and its first packets come at 7 s.
        tracks: { 'a/microphone@0': i * 50, 'a/camera@1': at < 1_000 ? at : at < 7_000 ? 1_000 : at },
        off: at >= 1_000 && at < 6_000 ? ['a/camera'] : [],
      })),
    );
    expect(verdicts.flatMap((v) => v.stalled)).to.deep.equal([]);
  });

  it('pulled again and still nothing: the next try waits twice as long; delivery resets it', () => {
    const readings: Reading[] = every500(0, 20_000, (at, i) => ({
      connection: i * 100,
      // The camera is pulled again (a new mid) after each stall; only the third pull delivers.
      tracks: {
        'a/microphone@0': i * 50,
        ...(at < 3_500 ? { 'a/camera@1': 0 } : at < 10_000 ? { 'a/camera@2': 0 } : { 'a/camera@3': at }),
      },
    }));
    const stalls = run(readings)
      .filter((v) => v.stalled.length > 0)
      .map((v) => v.at);
    // First pull: stalled at 3 s; second (seen at 3.5 s): waits 6 s, stalled at 9.5 s; the third delivers.
    expect(stalls).to.deep.equal([3_000, 9_500]);
  });
});
