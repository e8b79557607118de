/**
 * One Calls session and its RTCPeerConnection: publishing local tracks with
 * the browser's offer, pulling others' tracks with the SFU's offer, closing
 * either, and noticing when the connection is lost or never comes up. The
 * caller runs one operation at a time (the negotiation queue) and replaces a
 * broken session with a new one.
 */
import type { MediaApi } from '../media-api.js';
import type { MediaKind } from '../call-types.js';
import type { SimulcastLayer } from './layers.js';
import { MISSING_RETRY_MS, type MissingTrack, type PulledTrack, type WantedTrack } from './pull-plan.js';

export interface SessionTiming {
  /** `disconnected` this long means lost (ICE may still come back by itself before). */
  disconnectedGraceMs: number;
  /** A negotiated connection not up after this long will not come up: start over. */
  connectTimeoutMs: number;
}

export const defaultSessionTiming: SessionTiming = { disconnectedGraceMs: 5_000, connectTimeoutMs: 10_000 };

export interface ReceivedTrack extends PulledTrack {
  track: MediaStreamTrack | null;
}

export type BrokenReason = 'failed' | 'disconnected' | 'never-connected';

export class MediaSession {
  readonly pc: RTCPeerConnection;
  /** Our send transceivers by kind; one whose medium is off keeps its place with no track. */
  readonly senders: Partial<Record<MediaKind, RTCRtpTransceiver>> = {};
  /** `sessionId/trackName` of what we publish. */
  readonly published: Partial<Record<MediaKind, string>> = {};
  readonly pulled = new Map<string, ReceivedTrack>();
  readonly missing = new Map<string, MissingTrack>();
  /** Why this session cannot carry media any more; null while it can. */
  broken: BrokenReason | null = null;
  #closed = false;
  /** A close failed after its transceivers stopped: they cannot be restarted, so only a new session helps. */
  #closeFailed = false;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #disconnectedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly id: string,
    iceServers: RTCIceServer[],
    private readonly api: MediaApi,
    private readonly timing: SessionTiming,
    /** Called once, when the connection is lost or never comes up. */
    private readonly onBroken: (reason: BrokenReason) => void,
    /** Called when tracks arrive from the SFU. */
    private readonly onReceived: () => void,
  ) {
    // Not max-bundle: closing the last open m-line must stay possible (an offer with no BUNDLE group).
    this.pc = new RTCPeerConnection({ iceServers });
    this.pc.addEventListener('track', (event) => this.#attach(event.transceiver));
    this.pc.addEventListener('connectionstatechange', this.#onConnectionState);
  }

  get connected(): boolean {
    return this.pc.connectionState === 'connected';
  }

  /**
   * Everything it sent and received is closed, and so is its transport (the
   * browser drops it with its last m-line). Publishing brings a transport
   * back; pulling cannot (Calls waits for a connection that never comes), so
   * a session like this is replaced before pulling.
   */
  get drained(): boolean {
    return (
      this.pc.remoteDescription !== null &&
      !this.connected &&
      Object.keys(this.senders).length === 0 &&
      this.pulled.size === 0
    );
  }

  /** Sends new local tracks: one offer for all of them, answered by Calls. */
  async publish(
    items: { kind: MediaKind; track: MediaStreamTrack; sendEncodings?: RTCRtpEncodingParameters[] }[],
  ): Promise<void> {
    const added = items.map(({ kind, track, sendEncodings }) => ({
      kind,
      transceiver: this.pc.addTransceiver(track, {
        direction: 'sendonly',
        ...(sendEncodings ? { sendEncodings } : {}),
      }),
    }));
    for (const { kind, transceiver } of added) this.senders[kind] = transceiver;
    await this.pc.setLocalDescription(await this.pc.createOffer());
    let response: Awaited<ReturnType<MediaApi['publish']>>;
    try {
      response = await this.api.publish({
        sessionId: this.id,
        offer: { type: 'offer', sdp: this.pc.localDescription!.sdp },
        tracks: added.map(({ kind, transceiver }) => ({ mid: transceiver.mid!, trackName: kind })),
      });
    } catch (error) {
      // Calls did not take the offer (or we cannot know): these senders were never published.
      for (const { kind, transceiver } of added) {
        delete this.senders[kind];
        transceiver.stop();
      }
      throw error;
    }
    await this.pc.setRemoteDescription(response.answer);
    for (const { mid, trackName } of response.tracks) {
      const kind = added.find((a) => a.transceiver.mid === mid)?.kind;
      if (kind) this.published[kind] = `${this.id}/${trackName}`;
    }
    this.#expectConnection();
  }

  /** Stops publishing these kinds: their transceivers stop and Calls closes the tracks. */
  async unpublish(kinds: MediaKind[]): Promise<void> {
    const transceivers = kinds.flatMap((kind) => {
      const transceiver = this.senders[kind];
      delete this.senders[kind];
      delete this.published[kind];
      return transceiver ? [transceiver] : [];
    });
    await this.#close(transceivers);
  }

  /** Asks Calls for others' tracks; the ones not flowing yet are remembered as missing. */
  async pull(tracks: WantedTrack[], now = Date.now()): Promise<void> {
    const layers = Object.fromEntries(tracks.flatMap((t) => (t.layer ? [[t.ref, t.layer]] : [])));
    const response = await this.api.pull({
      sessionId: this.id,
      tracks: tracks.map((t) => t.ref),
      ...(Object.keys(layers).length > 0 ? { layers } : {}),
    });
    for (const item of response.tracks) {
      const wanted = tracks.find((t) => t.ref === item.ref);
      if (!wanted) continue;
      if (item.mid) {
        this.pulled.set(item.ref, { ...wanted, mid: item.mid, track: null });
        this.missing.delete(item.ref);
      } else {
        // Announced but not flowing yet (or the room moved on): ask again shortly, a few times.
        const tries = (this.missing.get(item.ref)?.tries ?? 0) + 1;
        this.missing.set(item.ref, { tries, retryAt: now + MISSING_RETRY_MS });
      }
    }
    if (!response.offer) return;
    await this.pc.setRemoteDescription(response.offer);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.api.renegotiate({
      sessionId: this.id,
      answer: { type: 'answer', sdp: this.pc.localDescription!.sdp },
    });
    // Transceivers that came with this offer are known now.
    for (const transceiver of this.pc.getTransceivers()) this.#attach(transceiver);
    this.#expectConnection();
  }

  /**
   * Switches pulled cameras to other simulcast layers (no renegotiation).
   * A track the room no longer knows as pulled keeps its layer: the next
   * plan drops or pulls it anyway.
   */
  async setLayers(tracks: (PulledTrack & { layer: SimulcastLayer })[]): Promise<void> {
    const response = await this.api.layers({
      sessionId: this.id,
      tracks: tracks.map(({ mid, layer }) => ({ mid, layer })),
    });
    for (const { mid, error } of response.tracks) {
      const asked = tracks.find((t) => t.mid === mid);
      const pulled = asked && this.pulled.get(asked.ref);
      if (pulled && !error) pulled.layer = asked.layer;
    }
  }

  /** Stops receiving tracks nobody announces any more. */
  async drop(tracks: PulledTrack[]): Promise<void> {
    const mids = new Set(tracks.map((t) => t.mid));
    for (const t of tracks) this.pulled.delete(t.ref);
    await this.#close(this.pc.getTransceivers().filter((t) => t.mid !== null && mids.has(t.mid)));
  }

  /**
   * After a step Calls did not take (busy): back to the last agreed
   * description, so the same session can try again later. False when that is
   * not possible and the session should be replaced.
   */
  async rollback(): Promise<boolean> {
    const state = this.pc.signalingState;
    if (this.#closeFailed) return false;
    if (state === 'stable') return true;
    if (state !== 'have-local-offer') return false;
    await this.pc.setLocalDescription({ type: 'rollback' });
    return true;
  }

  /** Ends the connection; Calls closes the session once it notices (the room closes its tracks). */
  dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimers();
    this.pc.removeEventListener('connectionstatechange', this.#onConnectionState);
    this.pc.close();
  }

  /** Stops transceivers and closes their tracks on Calls with an offer that says so. */
  async #close(transceivers: RTCRtpTransceiver[]): Promise<void> {
    if (transceivers.length === 0) return;
    const mids = transceivers.map((t) => t.mid!);
    for (const transceiver of transceivers) transceiver.stop();
    try {
      await this.pc.setLocalDescription(await this.pc.createOffer());
      const { answer } = await this.api.close({
        sessionId: this.id,
        mids,
        offer: { type: 'offer', sdp: this.pc.localDescription!.sdp },
      });
      if (answer) await this.pc.setRemoteDescription(answer);
    } catch (error) {
      this.#closeFailed = true;
      throw error;
    }
  }

  #attach(transceiver: RTCRtpTransceiver): void {
    for (const pulled of this.pulled.values()) {
      if (pulled.mid !== transceiver.mid || pulled.track === transceiver.receiver.track) continue;
      pulled.track = transceiver.receiver.track;
      this.onReceived();
    }
  }

  /** After a negotiation: if the connection is not up within the timeout, it will not come up. */
  #expectConnection(): void {
    if (this.connected || this.#connectTimer !== undefined) return;
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = undefined;
      if (!this.connected) this.#break('never-connected');
    }, this.timing.connectTimeoutMs);
  }

  readonly #onConnectionState = () => {
    const state = this.pc.connectionState;
    clearTimeout(this.#disconnectedTimer);
    this.#disconnectedTimer = undefined;
    if (state === 'connected') {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = undefined;
    }
    // Back to `connecting` (the transport moved, ICE restarted): it must get there again in time.
    if (state === 'connecting') this.#expectConnection();
    if (state === 'failed') this.#break('failed');
    if (state === 'disconnected') {
      this.#disconnectedTimer = setTimeout(() => {
        if (this.pc.connectionState === 'disconnected') this.#break('disconnected');
      }, this.timing.disconnectedGraceMs);
    }
  };

  #break(reason: BrokenReason): void {
    if (this.broken || this.#closed) return;
    this.broken = reason;
    this.#clearTimers();
    this.onBroken(reason);
  }

  #clearTimers(): void {
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#disconnectedTimer);
    this.#connectTimer = undefined;
    this.#disconnectedTimer = undefined;
  }
}
