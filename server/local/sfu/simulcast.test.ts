import { RtpHeader, RtpPacket } from 'werift';
import { describe, expect, it } from 'vitest';
import {
  chooseLayer,
  DEFAULT_SIMULCAST,
  invalidSimulcast,
  LayerForwarder,
  shiftVp8,
  simulcastSettings,
  vp8Descriptor,
  type SimulcastSettings,
} from './simulcast.js';

const FHQ = ['f', 'h', 'q'];

describe('the layer a subscriber gets', () => {
  const asciibetical = (preferredRid: string | null): SimulcastSettings => ({
    ...DEFAULT_SIMULCAST,
    preferredRid,
    ridNotAvailable: 'asciibetical',
  });
  const none = (preferredRid: string | null): SimulcastSettings => ({ ...DEFAULT_SIMULCAST, preferredRid });

  it.each([
    // settings, the publisher's rids, arriving, chosen
    ['preferred, arriving', none('h'), FHQ, 'fhq', 'h'],
    ['no preference: the publisher first rid', none(null), FHQ, 'fhq', 'f'],
    ['no preference, in the publisher order', none(null), ['q', 'h', 'f'], 'fhq', 'q'],
    ['none: the preferred even when it does not arrive', none('q'), FHQ, 'fh', 'q'],
    ['asciibetical: the next after it', asciibetical('f'), FHQ, 'hq', 'h'],
    ['asciibetical: the next arriving after it', asciibetical('f'), FHQ, 'q', 'q'],
    [
      'asciibetical: before it when nothing comes after (Chrome at 640×480)',
      asciibetical('q'),
      FHQ,
      'fh',
      'h',
    ],
    ['asciibetical: the nearest before it', asciibetical('q'), FHQ, 'f', 'f'],
    ['asciibetical, no preference: after the first rid', asciibetical(null), FHQ, 'hq', 'h'],
    ['asciibetical: a rid the publisher does not send', asciibetical('g'), FHQ, 'fhq', 'h'],
    ['asciibetical: nothing arrives yet', asciibetical('h'), FHQ, '', 'h'],
    ['not simulcast', none(null), [], '', null],
  ])('%s', (_, settings, rids, arriving, chosen) => {
    expect(chooseLayer(settings, rids, new Set(arriving))).toBe(chosen);
  });

  it.each([
    ['nothing asked', undefined, DEFAULT_SIMULCAST, DEFAULT_SIMULCAST],
    [
      'a preferred rid',
      { preferredRid: 'q' },
      DEFAULT_SIMULCAST,
      { ...DEFAULT_SIMULCAST, preferredRid: 'q' },
    ],
    ['an update keeps what it leaves out', { preferredRid: 'f' }, asciibetical('q'), asciibetical('f')],
    [
      'policies',
      { priorityOrdering: 'asciibetical', ridNotAvailable: 'asciibetical' },
      DEFAULT_SIMULCAST,
      { preferredRid: null, priorityOrdering: 'asciibetical', ridNotAvailable: 'asciibetical' },
    ],
  ])('settings from a request: %s', (_, requested, previous, settings) => {
    expect(simulcastSettings(requested, previous)).toEqual(settings);
  });

  it.each([
    ['none given', undefined, false],
    ['only a rid', { preferredRid: 'h' }, false],
    ['both policies Calls knows', { priorityOrdering: 'none', ridNotAvailable: 'asciibetical' }, false],
    ['an unknown fallback', { ridNotAvailable: 'lowest' }, true],
    ['an unknown ordering', { priorityOrdering: 'bandwidth' }, true],
  ])('policies Calls does not know are an item error: %s', (_, requested, invalid) => {
    expect(invalidSimulcast(requested)?.errorCode).toBe(invalid ? 'invalid_params' : undefined);
  });
});

/** A VP8 payload: descriptor bytes then the first bytes of a VP8 frame (P bit: 0 keyframe, 1 not). */
const vp8 = (...bytes: number[]) => Buffer.from(bytes);

describe('VP8 payload descriptors', () => {
  it.each([
    ['minimal, keyframe start', vp8(0x10, 0x00), { keyframe: true, pictureIdAt: -1, tl0PicIdxAt: -1 }],
    ['minimal, interframe start', vp8(0x10, 0x01), { keyframe: false, pictureIdAt: -1, tl0PicIdxAt: -1 }],
    ['not the start of partition 0', vp8(0x00, 0x00), { keyframe: false, pictureIdAt: -1, tl0PicIdxAt: -1 }],
    ['start of partition 1', vp8(0x11, 0x00), { keyframe: false, pictureIdAt: -1, tl0PicIdxAt: -1 }],
    // What Chrome sends with temporal layers: X, I (M: 15 bits), L, T.
    [
      '15-bit picture id, TL0PICIDX, TID',
      vp8(0x90, 0xe0, 0x81, 0x23, 0x45, 0x20, 0x00),
      { keyframe: true, pictureIdAt: 2, pictureIdBits: 15, tl0PicIdxAt: 4 },
    ],
    [
      '7-bit picture id',
      vp8(0x90, 0x80, 0x05, 0x01),
      { keyframe: false, pictureIdAt: 2, pictureIdBits: 7, tl0PicIdxAt: -1 },
    ],
    // werift's parser skips the TID byte only with L or K set.
    ['T alone', vp8(0x90, 0x20, 0x40, 0x00), { keyframe: true, pictureIdAt: -1, tl0PicIdxAt: -1 }],
    ['L alone', vp8(0x90, 0x40, 0x07, 0x01), { keyframe: false, pictureIdAt: -1, tl0PicIdxAt: 2 }],
    ['empty (padding only)', vp8(), { keyframe: false, pictureIdAt: -1, tl0PicIdxAt: -1 }],
    ['cut short', vp8(0x90, 0xe0, 0x81), { keyframe: false, pictureIdAt: -1, tl0PicIdxAt: -1 }],
  ])('%s', (_, payload, expected) => {
    expect(vp8Descriptor(payload)).toMatchObject(expected);
  });

  it.each([
    ['15-bit, forward', vp8(0x90, 0xe0, 0x81, 0x23, 0x45, 0x20, 0x00), 2, 3, [0x81, 0x25, 0x48]],
    ['15-bit, wraps', vp8(0x90, 0xe0, 0xff, 0xff, 0xff, 0x20, 0x00), 1, 1, [0x80, 0x00, 0x00]],
    ['15-bit, back', vp8(0x90, 0xe0, 0x80, 0x00, 0x00, 0x20, 0x00), -1, -1, [0xff, 0xff, 0xff]],
  ])('picture id and TL0PICIDX shifted: %s', (_, payload, pictureIdBy, tl0By, bytes) => {
    const before = Buffer.from(payload);
    const shifted = shiftVp8(payload, pictureIdBy, tl0By);
    expect([...shifted.subarray(2, 5)]).toEqual(bytes);
    expect(payload).toEqual(before); // The publisher's packet is shared by every subscriber.
  });

  it('a 7-bit picture id wraps at 128', () => {
    expect([...shiftVp8(vp8(0x90, 0x80, 0x7f, 0x01), 2, 0)]).toEqual([0x90, 0x80, 0x01, 0x01]);
  });

  it('no shift, no copy', () => {
    const payload = vp8(0x90, 0xe0, 0x81, 0x23, 0x45, 0x20, 0x00);
    expect(shiftVp8(payload, 0, 0)).toBe(payload);
  });
});

/** A packet of one layer: 15-bit picture id, TL0PICIDX, a keyframe or not. */
function packet(seq: number, timestamp: number, pictureId: number, tl0: number, keyframe = false): RtpPacket {
  const payload = vp8(
    0x90,
    0xe0,
    0x80 | (pictureId >> 8),
    pictureId & 0xff,
    tl0,
    0x20,
    keyframe ? 0x00 : 0x01,
  );
  return new RtpPacket(new RtpHeader({ sequenceNumber: seq, timestamp, ssrc: 1, marker: true }), payload);
}

/** What the subscriber receives: sequence number, timestamp, picture id, TL0PICIDX. */
function sent(out: RtpPacket | undefined) {
  if (!out) return undefined;
  const [, , high = 0, low = 0, tl0] = out.payload;
  return [out.header.sequenceNumber, out.header.timestamp, ((high & 0x7f) << 8) | low, tl0];
}

describe('a subscriber changing layers', () => {
  it('starts at the first keyframe of its layer, as the publisher numbered it', () => {
    const layers = new LayerForwarder();
    layers.aim('h');
    expect(layers.forward('h', packet(100, 9_000, 7, 3), 0)).toBeUndefined();
    expect(layers.forward('f', packet(500, 1_000, 70, 30, true), 0)).toBeUndefined();
    expect(sent(layers.forward('h', packet(101, 12_000, 8, 4, true), 10))).toEqual([101, 12_000, 8, 4]);
    expect(layers.current).toBe('h');
    expect(layers.pending).toBeNull();
    expect(sent(layers.forward('h', packet(102, 15_000, 9, 5), 20))).toEqual([102, 15_000, 9, 5]);
  });

  it('keeps the old layer until the new one has a keyframe, then goes on without a gap', () => {
    const layers = new LayerForwarder();
    layers.aim('f');
    layers.forward('f', packet(65_534, 4_294_960_000, 32_766, 254, true), 0);
    layers.forward('f', packet(65_535, 4_294_963_000, 32_767, 255), 33);
    layers.aim('q');
    expect(layers.pending).toBe('q');
    // Not a keyframe of q: f goes on.
    expect(layers.forward('q', packet(200, 50_000, 1_000, 10), 40)).toBeUndefined();
    expect(sent(layers.forward('f', packet(0, 4_294_966_000, 0, 0), 66))).toEqual([0, 4_294_966_000, 0, 0]);
    // q's keyframe, 10 ms after the last packet sent: one sequence number, 900 ticks, one picture later.
    expect(sent(layers.forward('q', packet(201, 53_000, 1_001, 11, true), 76))).toEqual([
      1,
      (4_294_966_000 + 900) % 2 ** 32,
      1,
      1,
    ]);
    expect(layers.current).toBe('q');
    // f is dropped from now on; q goes on from there.
    expect(layers.forward('f', packet(1, 4_294_969_000, 1, 1), 99)).toBeUndefined();
    expect(sent(layers.forward('q', packet(202, 56_000, 1_002, 12), 109))).toEqual([
      2,
      (4_294_966_000 + 900 + 3_000) % 2 ** 32,
      2,
      2,
    ]);
    // A q packet from before its keyframe, late: dropped, not sent as a repeat.
    expect(layers.forward('q', packet(200, 50_000, 1_000, 10), 110)).toBeUndefined();
  });

  it('aiming at the layer it already gets cancels a change', () => {
    const layers = new LayerForwarder();
    layers.aim('f');
    layers.forward('f', packet(1, 0, 1, 1, true), 0);
    layers.aim('q');
    layers.aim('f');
    expect(layers.pending).toBeNull();
    expect(layers.forward('q', packet(9, 0, 9, 9, true), 1)).toBeUndefined();
    expect(layers.current).toBe('f');
  });

  it('stays on one layer for longer than the sequence numbers go round', () => {
    const layers = new LayerForwarder();
    layers.aim('f');
    let forwarded = 0;
    for (let i = 0; i < 70_000; i++)
      if (layers.forward('f', packet(i & 0xffff, i * 3_000, i & 0x7fff, i & 0xff, i === 0), i)) forwarded++;
    expect(forwarded).toBe(70_000);
  });

  it('copies each packet without the publisher header extensions', () => {
    const layers = new LayerForwarder();
    layers.aim('f');
    const original = packet(1, 0, 1, 1, true);
    original.header.extensions = [{ id: 10, payload: Buffer.from('f') }];
    const out = layers.forward('f', original, 0)!;
    expect(out).not.toBe(original);
    expect(out.header.extensions).toEqual([]);
    expect(original.header.extensions).toHaveLength(1);
  });
});
