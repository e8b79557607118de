/**
 * Simulcast in the local SFU, the part that needs no peer connection: which
 * layer (rid) a subscriber gets, chosen as Calls documents it from the pull's
 * `simulcast` settings, and the per-subscriber rewriting that lets it change
 * layers at a keyframe while its decoder sees one unbroken stream.
 */
import { RtpHeader, RtpPacket } from 'werift';

/** Calls' two policies for `priorityOrdering` and `ridNotAvailable`; `none` is the default of both. */
export type RidPolicy = 'none' | 'asciibetical';

/** The `simulcast` object of a pull or a `tracks/update`, defaults applied. */
export interface SimulcastSettings {
  /** Null: none given; the publisher's first rid is taken (Calls documents no default). */
  preferredRid: string | null;
  /** Bandwidth-driven switching; kept, but nothing here limits bandwidth, so it never acts. */
  priorityOrdering: RidPolicy;
  /** `asciibetical`: when the wanted layer is not arriving, take the next one in a–z order. */
  ridNotAvailable: RidPolicy;
}

export const DEFAULT_SIMULCAST: SimulcastSettings = {
  preferredRid: null,
  priorityOrdering: 'none',
  ridNotAvailable: 'none',
};

/** A `simulcast` object as a request gives it (CALLS-API.md's TrackObject). */
export interface SimulcastRequest {
  preferredRid?: string;
  priorityOrdering?: string;
  ridNotAvailable?: string;
}

/** The request's `simulcast` object (any field may be left out) with Calls' defaults. */
export function simulcastSettings(
  requested: SimulcastRequest | undefined,
  previous: SimulcastSettings = DEFAULT_SIMULCAST,
): SimulcastSettings {
  if (!requested) return previous;
  const policy = (value: string | undefined, otherwise: RidPolicy): RidPolicy =>
    value === 'asciibetical' || value === 'none' ? value : otherwise;
  return {
    preferredRid: requested.preferredRid ?? previous.preferredRid,
    priorityOrdering: policy(requested.priorityOrdering, previous.priorityOrdering),
    ridNotAvailable: policy(requested.ridNotAvailable, previous.ridNotAvailable),
  };
}

/** The item error for a `priorityOrdering` or `ridNotAvailable` Calls does not know; undefined when fine. */
export function invalidSimulcast(
  requested: SimulcastRequest | undefined,
): { errorCode: string; errorDescription: string } | undefined {
  const known = (value: string | undefined) =>
    value === undefined || value === 'none' || value === 'asciibetical';
  if (!requested || (known(requested.priorityOrdering) && known(requested.ridNotAvailable))) return undefined;
  return {
    errorCode: 'invalid_params',
    errorDescription: 'simulcast priorityOrdering and ridNotAvailable are "none" or "asciibetical"',
  };
}

/**
 * The layer a subscriber should receive: its preferred rid (or the
 * publisher's first, RFC 8853's most preferred, when it named none) when that
 * layer arrives, or with `ridNotAvailable: "asciibetical"` the next arriving
 * rid after it in a–z order (`f` → `h` → `q`), else the nearest one before
 * it. With `none`, the preferred layer even when it does not arrive (the
 * subscriber then gets nothing new). Null when the publisher has no layers.
 */
export function chooseLayer(
  settings: SimulcastSettings,
  rids: readonly string[],
  arriving: ReadonlySet<string>,
): string | null {
  const wanted = settings.preferredRid ?? rids[0] ?? null;
  if (wanted === null || arriving.has(wanted) || settings.ridNotAvailable !== 'asciibetical') return wanted;
  const sorted = [...arriving].sort(); // Code-unit order: a–z for the ASCII rids Calls expects.
  return sorted.find((rid) => rid > wanted) ?? sorted.filter((rid) => rid < wanted).at(-1) ?? wanted;
}

/** Where the fields an SFU rewrites sit in a VP8 payload descriptor (RFC 7741, 4.2). */
export interface Vp8Descriptor {
  /** The first packet of a keyframe: S=1, partition 0, and the VP8 header's P bit clear. */
  keyframe: boolean;
  /** Byte offset of PictureID, or -1 without one. */
  pictureIdAt: number;
  /** 15 (M=1) or 7 bits. */
  pictureIdBits: 7 | 15;
  /** Byte offset of TL0PICIDX, or -1 without one. */
  tl0PicIdxAt: number;
}

const NO_DESCRIPTOR: Vp8Descriptor = { keyframe: false, pictureIdAt: -1, pictureIdBits: 15, tl0PicIdxAt: -1 };

/**
 * Reads a VP8 payload descriptor. (werift's `Vp8RtpPayload` skips the
 * T/K byte only when L or K is set, so it misreads a descriptor with T alone,
 * and it parses bits through strings: too slow for every forwarded packet.)
 */
export function vp8Descriptor(payload: Uint8Array): Vp8Descriptor {
  if (payload.length < 1) return NO_DESCRIPTOR;
  const first = payload[0]!;
  let at = 1;
  let pictureIdAt = -1;
  let pictureIdBits: 7 | 15 = 15;
  let tl0PicIdxAt = -1;
  if (first & 0x80) {
    const x = payload[at++] ?? 0;
    if (x & 0x80) {
      pictureIdAt = at;
      pictureIdBits = (payload[at] ?? 0) & 0x80 ? 15 : 7;
      at += pictureIdBits === 15 ? 2 : 1;
    }
    if (x & 0x40) tl0PicIdxAt = at++;
    if (x & 0x30) at++; // T or K: the TID/Y/KEYIDX byte.
  }
  if (at >= payload.length) return NO_DESCRIPTOR;
  // The VP8 frame itself starts here; its first byte's P bit is 0 on a keyframe (RFC 6386, 9.1).
  const partitionStart = (first & 0x10) !== 0 && (first & 0x07) === 0;
  const keyframe = partitionStart && (payload[at]! & 0x01) === 0;
  return { keyframe, pictureIdAt, pictureIdBits, tl0PicIdxAt };
}

function readPictureId(payload: Uint8Array, d: Vp8Descriptor): number {
  return d.pictureIdBits === 15
    ? ((payload[d.pictureIdAt]! & 0x7f) << 8) | payload[d.pictureIdAt + 1]!
    : payload[d.pictureIdAt]! & 0x7f;
}

/** The VP8 payload with PictureID and TL0PICIDX moved by these offsets (a copy; the input is shared). */
export function shiftVp8(payload: Buffer, pictureIdOffset: number, tl0PicIdxOffset: number): Buffer {
  const d = vp8Descriptor(payload);
  if ((d.pictureIdAt < 0 || pictureIdOffset === 0) && (d.tl0PicIdxAt < 0 || tl0PicIdxOffset === 0))
    return payload;
  const out = Buffer.allocUnsafe(payload.length);
  payload.copy(out);
  if (d.pictureIdAt >= 0) {
    if (d.pictureIdBits === 15) {
      const id = (readPictureId(payload, d) + pictureIdOffset) & 0x7fff;
      out[d.pictureIdAt] = 0x80 | (id >> 8);
      out[d.pictureIdAt + 1] = id & 0xff;
    } else {
      out[d.pictureIdAt] = (readPictureId(payload, d) + pictureIdOffset) & 0x7f;
    }
  }
  if (d.tl0PicIdxAt >= 0) out[d.tl0PicIdxAt] = (payload[d.tl0PicIdxAt]! + tl0PicIdxOffset) & 0xff;
  return out;
}

/** Packets of the current layer this far behind its newest are too late to matter. */
const REORDER_WINDOW = 0x1000;

/** Signed distance from `b` to `a` on the 16-bit sequence number circle. */
function seqDiff(a: number, b: number): number {
  return ((a - b + 0x8000) & 0xffff) - 0x8000;
}

/**
 * One subscriber's view of a simulcast source: forwards one layer, and
 * changes layers only at a keyframe of the new one (until then the old one
 * goes on). Its output is one stream, as if one encoder had made it: sequence
 * numbers, RTP timestamps, VP8 PictureID and TL0PICIDX continue from the last
 * packet sent, so the subscriber's jitter buffer sees no loss and its decoder
 * no reordered or repeated picture.
 */
export class LayerForwarder {
  /** The layer forwarded now; null until the first keyframe. */
  current: string | null = null;
  /** The layer to change to at its next keyframe; null when `current` is the one wanted. */
  pending: string | null = null;
  #seqOffset = 0;
  #timestampOffset = 0;
  #pictureIdOffset = 0;
  #tl0PicIdxOffset = 0;
  /** The current layer's keyframe we changed at (or a later packet): earlier ones, reordered, are dropped. */
  #fromSeq = 0;
  /** The last packet sent, as sent, and when. */
  #last: { sequenceNumber: number; timestamp: number; payload: Buffer; at: number } | undefined;

  /** `ticksPerMs`: RTP clock ticks per millisecond, 90 for video. */
  constructor(private readonly ticksPerMs = 90) {}

  /** The layer wanted now (from `chooseLayer`): changed to at its next keyframe. */
  aim(layer: string | null): void {
    this.pending = layer === this.current ? null : layer;
  }

  /** What to send the subscriber for this packet of layer `rid`: a rewritten copy, or nothing. */
  forward(rid: string, packet: RtpPacket, now: number): RtpPacket | undefined {
    if (rid === this.pending && vp8Descriptor(packet.payload).keyframe) this.#changeTo(rid, packet, now);
    if (rid !== this.current) return undefined;
    const { header } = packet;
    const sinceChange = seqDiff(header.sequenceNumber, this.#fromSeq);
    if (sinceChange < 0) return undefined;
    // Follows along so that a long stay on one layer never looks like a jump back.
    if (sinceChange > REORDER_WINDOW) this.#fromSeq = (header.sequenceNumber - REORDER_WINDOW) & 0xffff;
    const payload = shiftVp8(packet.payload, this.#pictureIdOffset, this.#tl0PicIdxOffset);
    const out = new RtpPacket(
      new RtpHeader({
        ...header,
        sequenceNumber: (header.sequenceNumber + this.#seqOffset) & 0xffff,
        timestamp: (header.timestamp + this.#timestampOffset) >>> 0,
        // The publisher's header extensions (its mid and rid, its ids) are not the subscriber's.
        extension: false,
        extensions: [],
      }),
      payload,
    );
    this.#last = {
      sequenceNumber: out.header.sequenceNumber,
      timestamp: out.header.timestamp,
      payload,
      at: now,
    };
    return out;
  }

  /** At the first packet of a keyframe of `rid`: the offsets that make it follow the last packet sent. */
  #changeTo(rid: string, keyframe: RtpPacket, now: number): void {
    const { sequenceNumber, timestamp } = keyframe.header;
    const last = this.#last;
    this.current = rid;
    this.pending = null;
    this.#fromSeq = sequenceNumber;
    if (!last) return; // The subscriber's first packet: nothing to follow.
    this.#seqOffset = (last.sequenceNumber + 1 - sequenceNumber) & 0xffff;
    // Layers have timestamps of their own (a random start each): go on from the last one sent by
    // the time that passed, at least one tick so the keyframe is a new picture.
    const elapsed = Math.max(1, Math.round((now - last.at) * this.ticksPerMs));
    this.#timestampOffset = (last.timestamp + elapsed - timestamp) >>> 0;
    const before = vp8Descriptor(last.payload);
    const next = vp8Descriptor(keyframe.payload);
    this.#pictureIdOffset = 0;
    this.#tl0PicIdxOffset = 0;
    if (before.pictureIdAt >= 0 && next.pictureIdAt >= 0)
      this.#pictureIdOffset = readPictureId(last.payload, before) + 1 - readPictureId(keyframe.payload, next);
    if (before.tl0PicIdxAt >= 0 && next.tl0PicIdxAt >= 0)
      this.#tl0PicIdxOffset = last.payload[before.tl0PicIdxAt]! + 1 - keyframe.payload[next.tl0PicIdxAt]!;
  }
}
