/**
 * One Calls session in the local SFU: a werift peer connection, the tracks it
 * publishes (by name), the tracks it pulls from other sessions (by mid), and
 * the remote tracks it pulls into its own bidirectional local tracks (by
 * local track name: `mid: "#name"`, the AI agent's push-to-talk).
 * Forwarding clones each RTP packet per subscriber, because werift's sender
 * rewrites headers in place. A simulcast camera arrives as one layer per rid;
 * each subscriber gets one of them (`simulcast.ts`).
 */
import { randomBytes } from 'node:crypto';
import type {
  MediaStreamTrack,
  RTCDtlsTransport,
  RTCPeerConnection,
  RTCRtpTransceiver,
  RtpPacket,
} from 'werift';
import {
  bundleLikeOffer,
  bundleOpenMLines,
  bundleTag,
  createPeer,
  followBrowserMLines,
  keepLoopbackCandidates,
  moveToNewTransport,
  nackPerSsrc,
  packetsFromRemote,
  rejectedLikeBundle,
  rejectMLine,
  setIceRole,
  stopTransports,
  withoutCandidates,
  withVideoStartBitrate,
} from './peer.js';
import {
  chooseLayer,
  DEFAULT_SIMULCAST,
  LayerForwarder,
  simulcastSettings,
  type SimulcastRequest,
  type SimulcastSettings,
} from './simulcast.js';
import type { SessionDescription } from '../../calls/schema.js';

/** How long a session that negotiated waits for its connection before an operation gives up (425). */
export const CONNECT_WAIT_MS = 5_000;

export interface SessionWindows {
  /** A session not connected this long after its creation or its last negotiation is closed. */
  connectWindowMs: number;
  /** A connected session that hears nothing from its browser this long is closed. */
  reconnectWindowMs: number;
}

/**
 * Calls gives a session that lost connectivity 30 s to come back. It does not
 * say how long a session that never connects lives: the same 30 s here.
 */
export const CALLS_WINDOWS: SessionWindows = { connectWindowMs: 30_000, reconnectWindowMs: 30_000 };
/** When to ask publishers for keyframes after a subscriber's answer. */
const KEYFRAME_RETRIES_MS = [0, 250, 1_000];
/** Keyframe requests to one publisher (one layer of a simulcast one) at most this often. */
const KEYFRAME_INTERVAL_MS = 300;
/**
 * A simulcast layer with no packet for this long has stopped (the publisher
 * dropped it): subscribers with `ridNotAvailable: "asciibetical"` move on.
 * Chrome sends every layer at its frame rate, so a second is many frames.
 */
export const LAYER_GONE_MS = 1_000;

export type Kind = 'audio' | 'video';

export interface PublishedTrack {
  name: string;
  mid: string;
  kind: Kind;
  /** Made by an SFU offer with `bidirectionalMediaStream`: its m-line also carries media to the peer. */
  bidirectional: boolean;
  session: SfuSession;
  transceiver: RTCRtpTransceiver;
  /** The incoming media, once werift has seen it (one stream: simulcast layers are in `layers`). */
  track: MediaStreamTrack | undefined;
  /** The rids of a simulcast publisher, in its offer's order; empty for one stream. */
  rids: string[];
  /** A simulcast publisher's layers, by rid. */
  layers: Map<string, Layer>;
  subscribers: Set<PulledTrack>;
  active: boolean;
  lastKeyframeRequest: number;
  /** Last RTP packet (or publication) time: Calls collects tracks silent for 30 s. */
  lastPacketAt: number;
}

/** One simulcast layer as it arrives from the publisher. */
export interface Layer {
  rid: string;
  /** Learnt from its first packet: Chrome's simulcast offer names no SSRC. */
  ssrc: number | undefined;
  /** 0 until its first packet. */
  lastPacketAt: number;
  /** Packets came within `LAYER_GONE_MS`, as last noticed (on a packet of any layer). */
  arriving: boolean;
  lastKeyframeRequest: number;
}

export interface PulledTrack {
  mid: string;
  source: PublishedTrack;
  session: SfuSession;
  transceiver: RTCRtpTransceiver;
  active: boolean;
  /** The pull's `simulcast` settings (also kept for a source that sends one stream). */
  simulcast: SimulcastSettings;
  /** For a simulcast source: the layer forwarded, and the rewriting that makes changes seamless. */
  layers: LayerForwarder | undefined;
  /** RTP payload bytes sent to the subscriber. */
  bytesForwarded: number;
  /**
   * Pulled into a transceiver that carried another source before (`#name`):
   * its first packet continues that source's sequence numbers and timestamps.
   */
  continuesSender: boolean;
}

/** How the session was made: `sessions/new?thirdparty=true&correlationId=…`. */
export interface SessionOrigin {
  /** A server peer (the AI model), not a browser; it negotiates and connects like any peer. */
  thirdParty: boolean;
  /** A label; Calls does not use it to find or deduplicate sessions. */
  correlationId?: string | undefined;
}

/** The item error for pulling a track that is not publishing: callers retry with backoff. */
export const NOT_PUBLISHED = {
  errorCode: 'not_found_track_error',
  errorDescription: 'the track is not published (yet)',
} as const;

/** A pull into a local track of this session (`mid: "#name"`): the local track's mid, or an item error. */
export type FeedResult = { mid: string } | { errorCode: string; errorDescription: string };

export class SfuSession {
  readonly id = randomBytes(16).toString('hex');
  readonly pc: RTCPeerConnection = createPeer();
  readonly published = new Map<string, PublishedTrack>();
  readonly pulled = new Map<string, PulledTrack>();
  /** Remote tracks forwarded into a bidirectional local track, by its track name. */
  readonly feeds = new Map<string, PulledTrack>();
  readonly thirdParty: boolean;
  readonly correlationId: string | undefined;
  /** The SFU made an offer and waits for `renegotiate`. */
  offerOutstanding = false;
  /** A negotiation is being processed right now. */
  busy = false;
  closed = false;
  /** RTP packets forwarded out of this session's tracks (for stats). */
  forwarded = 0;
  /** The mid whose transport the browser bundles everything on; null once every m-line is closed. */
  #bundleTag: string | null | undefined;
  /** Creation or the last negotiation: the connect window counts from here. */
  #negotiatedAt = Date.now();
  /** What `packetsFromRemote` said last, and when it last changed. */
  #heard = 0;
  #heardAt = Date.now();
  /** After a transport move, the ICE role the new transport must keep. */
  #iceRoleToKeep: boolean | undefined;
  readonly #watchdog: ReturnType<typeof setInterval>;
  readonly #watched = new WeakSet<RTCDtlsTransport>();

  constructor(
    private readonly onClosed: (session: SfuSession) => void,
    private readonly windows: SessionWindows = CALLS_WINDOWS,
    origin: SessionOrigin = { thirdParty: false },
  ) {
    this.thirdParty = origin.thirdParty;
    this.correlationId = origin.correlationId;
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') {
        this.#heardAt = Date.now();
        for (const delay of KEYFRAME_RETRIES_MS)
          setTimeout(() => !this.closed && this.#requestKeyframes(), delay);
      }
      // ICE consent lost (werift gives up 30 s after the last answer) or closed.
      if (state === 'failed' || state === 'closed') this.close();
    });
    const { connectWindowMs, reconnectWindowMs } = windows;
    this.#watchdog = setInterval(
      () => this.#checkAlive(),
      Math.max(20, Math.min(1_000, connectWindowMs / 5, reconnectWindowMs / 5)),
    );
    this.#watchdog.unref();
  }

  /** Closes a session that never connected, or that the browser left without a word. */
  #checkAlive(now = Date.now()): void {
    if (!this.connected) {
      if (now - this.#negotiatedAt > this.windows.connectWindowMs) this.close();
      return;
    }
    const heard = packetsFromRemote(this.pc);
    if (heard !== this.#heard) {
      this.#heard = heard;
      this.#heardAt = now;
    } else if (now - this.#heardAt > this.windows.reconnectWindowMs) this.close();
  }

  /** Called after each negotiation step: restarts the connect window and watches new transports. */
  #negotiated(): void {
    this.#negotiatedAt = Date.now();
    for (const transport of this.pc.dtlsTransports) {
      if (this.#watched.has(transport)) continue;
      this.#watched.add(transport);
      // A browser that closes its peer connection sends a DTLS alert: leave at once.
      transport.onStateChange.subscribe((state) => {
        if (state === 'closed' && this.pc.dtlsTransports.includes(transport)) this.close();
      });
    }
  }

  /**
   * Before a browser offer is applied. When its BUNDLE tag moved (the first
   * m-line was closed, or a closed one recycled for a new mid), Chrome has
   * built a new transport: a new port and a new DTLS handshake, with its ICE
   * credentials unchanged in the first case. werift would keep the old one,
   * so the session moves to a new transport too. When every m-line is closed,
   * Chrome has no transport until it offers again: the new one waits for that
   * (within the connect window). Returns the offer to apply.
   */
  #followOffer(offer: SessionDescription): SessionDescription {
    followBrowserMLines(this.pc, offer.sdp);
    // No tag: every m-line is closed, and Chrome drops its transport (with a DTLS close alert).
    const tag = bundleTag(offer.sdp) ?? null;
    const moved = this.#bundleTag !== undefined && tag !== this.#bundleTag;
    this.#bundleTag = tag;
    const sdp = rejectedLikeBundle(offer.sdp);
    if (!moved) return { type: offer.type, sdp };
    this.#iceRoleToKeep = moveToNewTransport(this.pc);
    // The offer was made before Chrome's new transport gathered: its candidates are the old
    // transport's, which still answers checks with the same credentials until the answer lands.
    return { type: offer.type, sdp: withoutCandidates(sdp) };
  }

  /** After the answer to a browser offer is set. */
  #answered(): void {
    if (this.#iceRoleToKeep !== undefined) setIceRole(this.pc, this.#iceRoleToKeep);
    this.#iceRoleToKeep = undefined;
    this.#negotiated();
  }

  get connected(): boolean {
    return this.pc.connectionState === 'connected';
  }

  get negotiated(): boolean {
    return this.pc.remoteDescription !== null;
  }

  /** Waits for ICE and DTLS when the session has negotiated but is not up yet. */
  async waitConnected(timeoutMs = CONNECT_WAIT_MS): Promise<boolean> {
    if (this.connected || !this.negotiated) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const { unSubscribe } = this.pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') done(true);
      });
      const done = (ok: boolean) => {
        clearTimeout(timer);
        unSubscribe();
        resolve(ok);
      };
    });
  }

  /** Browser offer with new local tracks: answer it and start receiving them. */
  async publish(offer: SessionDescription, tracks: { mid: string; trackName: string }[]) {
    await this.pc.setRemoteDescription(this.#followOffer(offer));
    const results = tracks.map(({ mid, trackName }) => {
      const transceiver = this.pc.getTransceivers().find((t) => t.mid === mid);
      if (!transceiver)
        return { mid, trackName, errorCode: 'invalid_params', errorDescription: `no m-line ${mid}` };
      const existing = this.published.get(trackName);
      if (existing?.active && existing.mid !== mid)
        return { mid, trackName, errorCode: 'invalid_params', errorDescription: 'track name in use' };
      this.#addPublished(trackName, mid, transceiver);
      return { mid, trackName };
    });
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.#answered();
    return { answer: this.#localDescription(), tracks: results };
  }

  #addPublished(name: string, mid: string, transceiver: RTCRtpTransceiver, bidirectional = false): void {
    // From a browser offer with `a=simulcast:send`, werift has made one track per rid.
    const layerTracks = transceiver.receiver.tracks.filter((track) => track.rid !== undefined);
    const published: PublishedTrack = {
      name,
      mid,
      kind: transceiver.kind as Kind,
      bidirectional,
      session: this,
      transceiver,
      track: undefined,
      rids: layerTracks.map((track) => track.rid!),
      layers: new Map(),
      subscribers: new Set(),
      active: true,
      lastKeyframeRequest: 0,
      lastPacketAt: Date.now(),
    };
    this.published.set(name, published);
    if (layerTracks.length > 0) {
      nackPerSsrc(transceiver.receiver);
      for (const track of layerTracks) this.#forwardLayer(published, track);
      return;
    }
    const forward = (track: MediaStreamTrack) => {
      published.track = track;
      track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
        published.lastPacketAt = Date.now();
        if (!published.active) return;
        for (const subscriber of published.subscribers) {
          if (!subscriber.active) continue;
          this.forwarded++;
          subscriber.bytesForwarded += rtp.payload.length;
          const { sender } = subscriber.transceiver;
          if (subscriber.continuesSender) continueSequence(sender, rtp);
          subscriber.continuesSender = false;
          void sender.sendRtp(withoutExtensions(rtp)).catch(() => undefined);
        }
      });
      if (hasReceivingSubscriber(published)) requestKeyframe(published, true);
    };
    // From a browser offer, werift has registered the track by its SSRC already; from an SFU
    // offer, it does when the answer is set (until then `receiver.track` is a stand-in that
    // never receives).
    const registered = transceiver.receiver.tracks[0];
    if (registered) forward(registered);
    else transceiver.onTrack.subscribe((track) => forward(track));
  }

  /** One layer of a simulcast publisher: to each subscriber that gets it now, or waits for its keyframe. */
  #forwardLayer(published: PublishedTrack, track: MediaStreamTrack): void {
    const rid = track.rid!;
    const layer: Layer = { rid, ssrc: undefined, lastPacketAt: 0, arriving: false, lastKeyframeRequest: 0 };
    published.layers.set(rid, layer);
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      const now = Date.now();
      layer.ssrc = rtp.header.ssrc;
      layer.lastPacketAt = now;
      published.lastPacketAt = now;
      if (!published.active) return;
      if (layersChanged(published, layer, now)) aimSubscribers(published);
      for (const subscriber of published.subscribers) {
        // Not before it can receive: the keyframe it waits for would be spent on nothing.
        if (!canReceive(subscriber)) continue;
        const layers = subscriber.layers!;
        const out = layers.forward(rid, rtp, now);
        // Asked for until its keyframe comes (the first request may come before the layer's SSRC is known).
        if (layers.pending === rid) requestKeyframe(published, false, rid);
        if (!out) continue;
        this.forwarded++;
        subscriber.bytesForwarded += out.payload.length;
        const { sender } = subscriber.transceiver;
        if (subscriber.continuesSender) continueSequence(sender, out);
        subscriber.continuesSender = false;
        void sender.sendRtp(out).catch(() => undefined);
      }
    });
  }

  /** Remote tracks to pull: adds send-only transceivers and makes an SFU offer. */
  async pull(sources: { source: PublishedTrack; simulcast: SimulcastSettings }[]) {
    const pulled = sources.map(({ source, simulcast }) => {
      const transceiver = this.pc.addTransceiver(source.kind, { direction: 'sendonly' });
      return { source, simulcast, transceiver };
    });
    const offer = await this.#offer();
    return {
      offer,
      mids: pulled.map(({ source, simulcast, transceiver }) => {
        const mid = transceiver.mid!;
        const track = subscription({
          mid,
          source,
          session: this,
          transceiver,
          simulcast,
          continuesSender: false,
        });
        this.pulled.set(mid, track);
        subscribe(track);
        // A subscriber's own keyframe requests go to the publisher (the layer it gets).
        transceiver.sender.onPictureLossIndication.subscribe(() => requestKeyframeFor(track));
        return mid;
      }),
    };
  }

  /**
   * `tracks/update` of a pulled track's `simulcast` settings (what it leaves
   * out stays): a simulcast source changes layers at the new layer's next
   * keyframe, with no negotiation.
   */
  updateSimulcast(mid: string, requested: SimulcastRequest): void {
    const pulled = this.pulled.get(mid);
    if (!pulled) return;
    pulled.simulcast = simulcastSettings(requested, pulled.simulcast);
    aimSubscriber(pulled, true);
  }

  /**
   * Local tracks with no offer from the peer (a server peer such as the AI
   * model has none to give): the SFU adds a receiving m-line per track, also
   * sending when bidirectional, and offers them; the peer answers with
   * `renegotiate`. Returns the offer and each track's mid.
   */
  async offerLocalTracks(tracks: { trackName: string; kind: Kind; bidirectional: boolean }[]) {
    const added = tracks.map(({ trackName, kind, bidirectional }) => {
      const direction = bidirectional ? 'sendrecv' : 'recvonly';
      return { trackName, bidirectional, transceiver: this.pc.addTransceiver(kind, { direction }) };
    });
    const offer = await this.#offer();
    return {
      offer,
      tracks: added.map(({ trackName, bidirectional, transceiver }) => {
        const mid = transceiver.mid!;
        this.#addPublished(trackName, mid, transceiver, bidirectional);
        // The peer's keyframe requests on this m-line go to whatever is pulled into it now.
        transceiver.sender.onPictureLossIndication.subscribe(() => {
          const feed = this.feeds.get(trackName);
          if (feed?.active) requestKeyframeFor(feed);
        });
        return { trackName, mid };
      }),
    };
  }

  /**
   * Forwards a remote track into one of this session's bidirectional local
   * tracks (`mid: "#name"`), in place of what it forwarded there before. No
   * negotiation: the m-line already sends.
   */
  feed(localTrackName: string, source: PublishedTrack | undefined): FeedResult {
    const local = this.published.get(localTrackName);
    // A caller's mistake, final: not the retryable not_found_track_error of a source not there yet.
    if (!local?.active || !local.bidirectional)
      return {
        errorCode: 'invalid_params',
        errorDescription: `#${localTrackName} is not a bidirectional local track of this session`,
      };
    if (!source?.active) return NOT_PUBLISHED;
    if (local.kind !== source.kind)
      return {
        errorCode: 'invalid_params',
        errorDescription: `#${localTrackName} carries ${local.kind}, not ${source.kind}`,
      };
    this.#stopFeed(localTrackName);
    const feed = subscription({
      mid: local.mid,
      source,
      session: this,
      transceiver: local.transceiver,
      simulcast: DEFAULT_SIMULCAST,
      continuesSender: true,
    });
    this.feeds.set(localTrackName, feed);
    subscribe(feed);
    requestKeyframeFor(feed, true);
    return { mid: local.mid };
  }

  #stopFeed(localTrackName: string): void {
    const feed = this.feeds.get(localTrackName);
    if (!feed) return;
    feed.active = false;
    feed.source.subscribers.delete(feed);
    this.feeds.delete(localTrackName);
  }

  /** Makes and sets an SFU offer for what changed; the peer answers with `renegotiate`. */
  async #offer(): Promise<SessionDescription> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    this.#bundleTag ??= bundleTag(bundleOpenMLines(offer.sdp));
    this.offerOutstanding = true;
    this.#negotiated();
    return this.#localDescription();
  }

  /** The browser's answer to our offer. */
  async renegotiate(answer: SessionDescription): Promise<void> {
    await this.pc.setRemoteDescription({ type: answer.type, sdp: rejectedLikeBundle(answer.sdp) });
    this.offerOutstanding = false;
    // The browser bundled what an offer of ours put on transports of their own (peer.ts).
    stopTransports(this.pc, { unusedOnly: true });
    this.#negotiated();
    if (!this.connected) return; // Asked for once the connection is up.
    // A keyframe sent before the new sender is ready is lost: ask again shortly.
    for (const delay of KEYFRAME_RETRIES_MS)
      setTimeout(() => !this.closed && this.#requestKeyframes(), delay);
  }

  /** Stops tracks by mid; with a browser offer (m-lines stopped), answers it. */
  async closeTracks(mids: string[], offer?: SessionDescription) {
    const results = mids.map((mid) => {
      const pulled = this.pulled.get(mid);
      if (pulled) {
        pulled.active = false;
        pulled.source.subscribers.delete(pulled);
        this.pulled.delete(mid);
        rejectMLine(pulled.transceiver);
        return { mid };
      }
      const published = [...this.published.values()].find((t) => t.mid === mid && t.active);
      if (published) {
        this.#unpublish(published);
        rejectMLine(published.transceiver);
        return { mid };
      }
      return { mid, errorCode: 'close_track_error', errorDescription: `no open track with mid ${mid}` };
    });
    if (!offer) return { tracks: results };
    await this.pc.setRemoteDescription(this.#followOffer(offer));
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.#answered();
    return { tracks: results, answer: this.#localDescription() };
  }

  /** Closes published tracks that sent nothing for `idleMs`, as Calls does. */
  collectSilentTracks(idleMs: number, now = Date.now()): void {
    for (const published of [...this.published.values()]) {
      if (published.active && now - published.lastPacketAt > idleMs) this.#unpublish(published);
    }
  }

  /** Ends a local track: what others pull of it, and what is pulled into it (`#name`). */
  #unpublish(published: PublishedTrack): void {
    published.active = false;
    for (const subscriber of published.subscribers) subscriber.active = false;
    published.subscribers.clear();
    this.published.delete(published.name);
    this.#stopFeed(published.name);
  }

  state() {
    return {
      tracks: [
        ...[...this.published.values()].map((t) => ({
          location: 'local' as const,
          mid: t.mid,
          trackName: t.name,
          status: t.active ? 'active' : 'inactive',
        })),
        ...[...this.pulled.values(), ...this.feeds.values()].map((t) => ({
          location: 'remote' as const,
          mid: t.mid,
          trackName: t.source.name,
          sessionId: t.source.session.id,
          status: t.active && t.source.active ? 'active' : 'inactive',
        })),
      ],
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.#watchdog);
    for (const published of [...this.published.values()]) this.#unpublish(published);
    for (const pulled of this.pulled.values()) pulled.source.subscribers.delete(pulled);
    this.pulled.clear();
    void this.pc
      .close()
      .catch(() => undefined)
      .finally(() => stopTransports(this.pc, { unusedOnly: false }));
    this.onClosed(this);
  }

  /** For what this session pulls, and for its own video others pull (its transport may be new). */
  #requestKeyframes(): void {
    for (const pulled of [...this.pulled.values(), ...this.feeds.values()])
      if (pulled.active) requestKeyframeFor(pulled, true);
    for (const published of this.published.values())
      if (hasReceivingSubscriber(published)) requestKeyframe(published, true);
  }

  #localDescription(): SessionDescription {
    const local = this.pc.localDescription!;
    let sdp = keepLoopbackCandidates(local.sdp);
    // Every answer goes to a browser that sends: keep its start bitrate in each one.
    if (local.type === 'answer') {
      sdp = bundleLikeOffer(withVideoStartBitrate(sdp), this.pc.remoteDescription?.sdp ?? '');
    } else {
      sdp = bundleOpenMLines(sdp);
    }
    return { type: local.type as 'offer' | 'answer', sdp };
  }
}

/**
 * A sender that switches sources (a `#name` pull replaced) would jump to the
 * new source's sequence numbers and timestamps, which the peer's jitter
 * buffer takes for loss or reordering: the new source continues from the
 * last packet sent, one packet (20 ms) later. werift's own `replaceRTP`
 * repeats the last sequence number, so it is told the packet before.
 */
function continueSequence(sender: RTCRtpTransceiver['sender'], first: RtpPacket): void {
  const step = Math.round((sender.codec?.clockRate ?? 48_000) / 50);
  const { sequenceNumber, timestamp } = first.header;
  sender.replaceRTP({
    sequenceNumber: (sequenceNumber - 1) & 0xffff,
    timestamp: (timestamp - step) >>> 0,
  });
}

/**
 * Whether what is sent to this subscriber now reaches it: its session is
 * connected and its m-line negotiated (until the answer, werift's sender has
 * no codec and drops what it gets). Keyframes are asked for only for such
 * subscribers. Chrome makes at most one per 300 ms: one asked for a
 * subscriber still connecting is lost, and the request made when it connects
 * is then ignored (its first frame came 250 ms later, with the next retry).
 * A simulcast subscriber would also change layers at a keyframe it never got.
 */
function canReceive(subscriber: PulledTrack): boolean {
  return (
    subscriber.active && subscriber.session.connected && subscriber.transceiver.sender.codec !== undefined
  );
}

/** Whether a keyframe now would reach someone. */
const hasReceivingSubscriber = (published: PublishedTrack) => [...published.subscribers].some(canReceive);

/** A copy for one subscriber: werift's sender rewrites headers in place, and the publisher's header
 * extensions (its mid and rids, under its ids) mean nothing to the subscriber. */
function withoutExtensions(rtp: RtpPacket): RtpPacket {
  const copy = rtp.clone();
  copy.header.extension = false;
  copy.header.extensions = [];
  return copy;
}

/** A new pull of `source`; of a simulcast one with the layer state it needs. */
function subscription(
  fields: Pick<PulledTrack, 'mid' | 'source' | 'session' | 'transceiver' | 'simulcast' | 'continuesSender'>,
): PulledTrack {
  return {
    ...fields,
    active: true,
    layers: fields.source.rids.length > 0 ? new LayerForwarder() : undefined,
    bytesForwarded: 0,
  };
}

/**
 * Starts forwarding to a new subscriber (of a simulcast source: the layer it
 * should get, from its keyframe, asked for once the subscriber can receive it).
 */
function subscribe(subscriber: PulledTrack): void {
  subscriber.source.subscribers.add(subscriber);
  aimSubscriber(subscriber);
}

/**
 * Notes, on a packet of `layer`, whether it started arriving or another layer
 * stopped (no packet for `LAYER_GONE_MS`). True when the arriving set changed.
 */
function layersChanged(published: PublishedTrack, layer: Layer, now: number): boolean {
  let changed = !layer.arriving;
  layer.arriving = true;
  for (const other of published.layers.values()) {
    if (other.arriving && now - other.lastPacketAt > LAYER_GONE_MS) {
      other.arriving = false;
      changed = true;
    }
  }
  return changed;
}

/** The rids of a simulcast publisher whose packets arrive now, in its order. */
export function arrivingRids(published: PublishedTrack, now = Date.now()): string[] {
  return published.rids.filter(
    (rid) => now - (published.layers.get(rid)?.lastPacketAt ?? 0) <= LAYER_GONE_MS,
  );
}

function aimSubscribers(published: PublishedTrack): void {
  for (const subscriber of published.subscribers) aimSubscriber(subscriber);
}

/** Points a subscriber of a simulcast source at the layer it should get now, and asks for its keyframe. */
function aimSubscriber(subscriber: PulledTrack, force = false): void {
  const { layers, source } = subscriber;
  if (!layers) return;
  const arriving = new Set([...source.layers.values()].filter((l) => l.arriving).map((l) => l.rid));
  layers.aim(chooseLayer(subscriber.simulcast, source.rids, arriving));
  if (layers.pending !== null && canReceive(subscriber)) requestKeyframe(source, force, layers.pending);
}

/** A keyframe of what this subscriber decodes, or is about to, once it can receive it. */
function requestKeyframeFor(subscriber: PulledTrack, force = false): void {
  const { layers, source } = subscriber;
  if (!canReceive(subscriber)) return;
  if (!layers) return requestKeyframe(source, force);
  for (const rid of [layers.current, layers.pending]) if (rid !== null) requestKeyframe(source, force, rid);
}

/**
 * Asks the publisher's browser for a keyframe so a subscriber can start
 * decoding: of one layer of a simulcast publisher when `rid` is given, else of
 * every layer some subscriber gets or waits for.
 */
function requestKeyframe(published: PublishedTrack, force = false, rid?: string): void {
  if (published.kind !== 'video') return;
  if (published.rids.length === 0) return sendPli(published, published.track?.ssrc, published, force);
  const wanted =
    rid !== undefined
      ? [rid]
      : [...published.subscribers]
          .filter(canReceive)
          .flatMap(({ layers }) => [layers?.current, layers?.pending]);
  for (const layerRid of new Set(wanted)) {
    const layer = layerRid ? published.layers.get(layerRid) : undefined;
    if (layer) sendPli(published, layer.ssrc, layer, force);
  }
}

/** A PLI for one of the publisher's SSRCs, unless `limited` had one within `KEYFRAME_INTERVAL_MS`. */
function sendPli(
  published: PublishedTrack,
  ssrc: number | undefined,
  limited: { lastKeyframeRequest: number },
  force: boolean,
): void {
  const now = Date.now();
  if (!ssrc || (!force && now - limited.lastKeyframeRequest < KEYFRAME_INTERVAL_MS)) return;
  limited.lastKeyframeRequest = now;
  void published.transceiver.receiver.sendRtcpPLI(ssrc).catch(() => undefined);
}
