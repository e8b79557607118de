/**
 * For the local SFU's own tests: werift peers talking to its Calls API, in
 * the place of the AI model (a third-party session that answers the SFU's
 * offer) and of browsers (a microphone published with their own offer, pulls
 * answered). Each stamps the Opus-like RTP it sends with a byte of its own,
 * so that a test can tell whose packets reach whom.
 */
import { MediaStreamTrack, RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import { newSessionResponse, tracksResponse } from '../../calls/schema.js';
import type { LocalSfu } from './calls-server.js';
import { createPeer } from './peer.js';
import { TEST_APP } from './test-browser.js';

interface Description {
  type: 'offer' | 'answer';
  sdp: string;
}

export interface CallsAnswer {
  status: number;
  // Tests read whatever the SFU answered.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** A Calls API request, whatever the status. */
export async function callsApi(
  sfu: LocalSfu,
  method: string,
  path: string,
  body?: unknown,
): Promise<CallsAnswer> {
  const response = await fetch(`${sfu.callsApiUrl}/apps/${TEST_APP.appId}${path}`, {
    method,
    headers: { authorization: `Bearer ${TEST_APP.appSecret}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

/** One received RTP packet: who sent it (its first payload byte) and its header as it arrived. */
export interface ReceivedPacket {
  from: number;
  sequenceNumber: number;
  timestamp: number;
}

/** 10 ms of Opus at 48 kHz per packet: twice Opus's usual pace, so that tests wait less. */
const PACKET_INTERVAL_MS = 10;
const OPUS_PAYLOAD_TYPE = 111;

export class WeriftPeer {
  readonly pc: RTCPeerConnection = createPeer();
  /** Every packet received, on any track, in order. */
  readonly received: ReceivedPacket[] = [];
  readonly #timers: ReturnType<typeof setInterval>[] = [];

  private constructor(
    private readonly sfu: LocalSfu,
    readonly sessionId: string,
  ) {
    this.pc.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe(({ header, payload }) =>
        this.received.push({
          from: payload[0] ?? -1,
          sequenceNumber: header.sequenceNumber,
          timestamp: header.timestamp,
        }),
      ),
    );
  }

  /** A peer with a new session; `query` as in `sessions/new?thirdparty=true`. */
  static async open(sfu: LocalSfu, query = ''): Promise<WeriftPeer> {
    const response = await callsApi(sfu, 'POST', `/sessions/new${query}`);
    if (response.status !== 201) throw new Error(`sessions/new: ${response.status}`);
    return new WeriftPeer(sfu, newSessionResponse.parse(response.body).sessionId);
  }

  request(method: string, action: string, body?: unknown): Promise<CallsAnswer> {
    return callsApi(this.sfu, method, `/sessions/${this.sessionId}${action}`, body);
  }

  /** Packets received so far from the peer that stamps `from`. */
  count(from: number): number {
    return this.received.filter((packet) => packet.from === from).length;
  }

  /**
   * Answers an SFU offer, as the AI model answers the one Calls makes for it.
   * With `sendAs`, the peer also sends on the offered m-line (the first one).
   */
  async answer(offer: Description, sendAs?: number): Promise<Description> {
    await this.pc.setRemoteDescription(offer);
    if (sendAs !== undefined) {
      const track = new MediaStreamTrack({ kind: 'audio' });
      this.pc.addTrack(track);
      this.#send(track, sendAs);
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.#local();
  }

  /** Publishes a microphone with the peer's own offer, as a browser does, and starts sending. */
  async publishMicrophone(sendAs: number, trackName = 'microphone'): Promise<string> {
    const track = new MediaStreamTrack({ kind: 'audio' });
    const transceiver = this.pc.addTransceiver(track, { direction: 'sendonly' });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const answer = await this.#sessionDescription('publish', {
      sessionDescription: this.#local(),
      tracks: [{ location: 'local', mid: transceiver.mid, trackName }],
    });
    await this.pc.setRemoteDescription(answer);
    this.#send(track, sendAs);
    return transceiver.mid!;
  }

  /** Pulls remote tracks into new m-lines: the SFU's offer, answered with `renegotiate`. */
  async pull(sources: { sessionId: string; trackName: string }[]): Promise<void> {
    const offer = await this.#sessionDescription('pull', {
      tracks: sources.map((source) => ({ location: 'remote', ...source })),
    });
    const answer = await this.answer(offer);
    const renegotiated = await this.request('PUT', '/renegotiate', { sessionDescription: answer });
    if (renegotiated.status !== 200) throw new Error(`renegotiate: ${renegotiated.status}`);
  }

  async close(): Promise<void> {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    await this.pc.close();
  }

  /** Sends Opus-like packets on `track` until closed: continuous sequence numbers and timestamps. */
  #send(track: MediaStreamTrack, from: number): void {
    const ssrc = (Math.random() * 0xffffffff) >>> 0;
    let sequenceNumber = Math.floor(Math.random() * 0xffff);
    let timestamp = (Math.random() * 0xffffffff) >>> 0;
    const timer = setInterval(() => {
      sequenceNumber = (sequenceNumber + 1) & 0xffff;
      timestamp = (timestamp + 480) >>> 0;
      const header = new RtpHeader({ payloadType: OPUS_PAYLOAD_TYPE, sequenceNumber, timestamp, ssrc });
      track.writeRtp(new RtpPacket(header, Buffer.from([from, 0xfc, 0xff, 0xfe])));
    }, PACKET_INTERVAL_MS);
    this.#timers.push(timer);
  }

  /** `tracks/new`, which must succeed with a session description. */
  async #sessionDescription(what: string, request: unknown): Promise<Description> {
    const response = await this.request('POST', '/tracks/new', request);
    const parsed = tracksResponse.safeParse(response.body);
    const description = parsed.success ? parsed.data.sessionDescription : undefined;
    if (response.status !== 200 || !description)
      throw new Error(`${what}: ${response.status} ${JSON.stringify(response.body)}`);
    return description;
  }

  #local(): Description {
    const { type, sdp } = this.pc.localDescription!;
    return { type: type as Description['type'], sdp };
  }
}
