/**
 * The media side of one local realtime call: a werift peer that answers the
 * offer (from Calls, or the local SFU: one sendrecv audio m-line), keeps the
 * Opus packets the caller sent, and plays packets back on its own outgoing
 * track, paced like a live stream.
 */
import { randomBytes } from 'node:crypto';
import { RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import { createPeer, keepLoopbackCandidates } from '../sfu/peer.js';

/** Opus in WebRTC: a 48 kHz RTP clock, payload type 111 as Chrome and the SFU use it. */
const OPUS_CLOCK_RATE = 48_000;
const OPUS_PAYLOAD_TYPE = 111;
/** One Opus frame of the usual 20 ms, in RTP clock ticks. */
const FRAME_TICKS = 960;
/** What one push-to-talk turn may hold (the room's longest hold is 60 s by default), in packets. */
const MAX_HEARD_PACKETS = 3_500;

/** One Opus packet as it arrived: its payload and where it sits in the caller's timeline. */
export interface HeardPacket {
  payload: Buffer;
  timestamp: number;
}

export class OfferError extends Error {}

export class CallMedia {
  readonly pc = createPeer();
  /** Ours: sends the answer audio, receives the caller's. */
  readonly #audio: RTCRtpTransceiver;
  /** Packets heard since the last `takeHeard()`. */
  #heard: HeardPacket[] = [];
  #sequenceNumber = randomBytes(2).readUInt16BE();
  #timestamp = randomBytes(4).readUInt32BE();
  #lastSentAt = 0;
  #playback: ReturnType<typeof setTimeout> | undefined;
  #endPlayback: (() => void) | undefined;
  packetsReceived = 0;
  packetsSent = 0;

  constructor(
    private readonly onPacketCounted: (direction: 'received' | 'sent') => void,
    /** The caller closed its peer (a DTLS close alert), or the connection failed. */
    private readonly onGone: () => void,
  ) {
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'failed' || state === 'closed') this.onGone();
    });
    // Present before the offer is applied, so werift gives it the offer's audio m-line and
    // answers sendrecv, as OpenAI does.
    this.#audio = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.#audio.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        this.packetsReceived++;
        this.onPacketCounted('received');
        if (this.#heard.length < MAX_HEARD_PACKETS)
          this.#heard.push({ payload: Buffer.from(rtp.payload), timestamp: rtp.header.timestamp });
      });
    });
  }

  /** Applies the caller's offer and returns the SDP answer. */
  async answer(offer: string): Promise<string> {
    if (!/^m=audio /m.test(offer)) throw new OfferError('The SDP offer has no audio m-line');
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    } catch (error) {
      throw new OfferError(`The SDP offer could not be applied: ${String(error)}`);
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    // werift's connection state does not follow a DTLS close alert; its transport's does.
    for (const transport of this.pc.dtlsTransports)
      transport.onStateChange.subscribe((state) => state === 'closed' && this.onGone());
    return keepLoopbackCandidates(this.pc.localDescription!.sdp);
  }

  /** What was heard since the last call, and starts hearing afresh. */
  takeHeard(): HeardPacket[] {
    const heard = this.#heard;
    this.#heard = [];
    return heard;
  }

  /**
   * Plays packets on the outgoing track in their own rhythm (their RTP
   * timestamps), under our sequence numbers and timeline. A new playback
   * ends the one playing. `onEnd` runs once when it has all been sent or it
   * was cut short.
   */
  play(packets: HeardPacket[], onEnd: () => void): void {
    this.stopPlayback();
    const first = packets[0];
    if (!first) return onEnd();
    // Our timeline moves on with real time between playbacks, as a live source's would.
    const now = Date.now();
    const idleTicks = this.#lastSentAt === 0 ? 0 : ((now - this.#lastSentAt) * OPUS_CLOCK_RATE) / 1_000;
    const base = (this.#timestamp + Math.max(FRAME_TICKS, Math.round(idleTicks))) >>> 0;
    let next = 0;
    this.#endPlayback = onEnd;
    const sendDue = () => {
      const elapsedTicks = ((Date.now() - now) * OPUS_CLOCK_RATE) / 1_000;
      for (; next < packets.length; next++) {
        const packet = packets[next]!;
        const offset = (packet.timestamp - first.timestamp) >>> 0;
        if (offset > elapsedTicks) break;
        this.#send(packet.payload, (base + offset) >>> 0, next === 0);
      }
      if (next === packets.length) return this.stopPlayback();
      const offset = (packets[next]!.timestamp - first.timestamp) >>> 0;
      const dueInMs = ((offset - elapsedTicks) * 1_000) / OPUS_CLOCK_RATE;
      this.#playback = setTimeout(sendDue, Math.max(1, dueInMs));
    };
    sendDue();
  }

  get playing(): boolean {
    return this.#endPlayback !== undefined;
  }

  stopPlayback(): void {
    clearTimeout(this.#playback);
    this.#playback = undefined;
    const end = this.#endPlayback;
    this.#endPlayback = undefined;
    end?.();
  }

  #send(payload: Buffer, timestamp: number, marker: boolean): void {
    this.#sequenceNumber = (this.#sequenceNumber + 1) & 0xffff;
    this.#timestamp = timestamp;
    this.#lastSentAt = Date.now();
    const header = new RtpHeader({
      payloadType: OPUS_PAYLOAD_TYPE,
      sequenceNumber: this.#sequenceNumber,
      timestamp,
      marker,
    });
    this.packetsSent++;
    this.onPacketCounted('sent');
    // werift sets our SSRC and payload type on the way out.
    void this.#audio.sender.sendRtp(new RtpPacket(header, payload)).catch(() => undefined);
  }

  close(): void {
    clearTimeout(this.#playback);
    this.#playback = undefined;
    this.#endPlayback = undefined;
    this.#heard = [];
    void this.pc.close().catch(() => undefined);
  }
}

/** How long packets last, from their RTP timestamps (a 20 ms frame each, the last one included). */
export function heardSeconds(packets: HeardPacket[]): number {
  const first = packets[0];
  const last = packets.at(-1);
  if (!first || !last) return 0;
  return (((last.timestamp - first.timestamp) >>> 0) + FRAME_TICKS) / OPUS_CLOCK_RATE;
}
