/**
 * werift set up for an SFU on loopback (TOOLCHAIN.md, "WebRTC on loopback"):
 * Opus and VP8 with the feedback Chrome needs, host candidates on 127.0.0.1
 * only, and the SDP edits that keep Chrome at full resolution.
 */
import {
  ReceiverEstimatedMaxBitrate,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RTCRtpSender,
  RtcpPayloadSpecificFeedback,
  type RTCDtlsTransport,
  type RTCPeerConnectionConfig,
  type RTCRtpReceiver,
  type RTCRtpTransceiver,
  type RtcpPacket,
  type RtpPacket,
  useRepairedRtpStreamId,
  useSdesMid,
  useSdesRTPStreamId,
} from 'werift';

const LOOPBACK = '127.0.0.1';

/** Fixed payload types, the ones Chrome offers first, so publishers and subscribers agree. */
const codecs = {
  audio: [
    new RTCRtpCodecParameters({
      mimeType: 'audio/opus',
      clockRate: 48_000,
      channels: 2,
      payloadType: 111,
      parameters: 'minptime=10;useinbandfec=1',
      rtcpFeedback: [{ type: 'transport-cc' }],
    }),
  ],
  video: [
    new RTCRtpCodecParameters({
      mimeType: 'video/VP8',
      clockRate: 90_000,
      payloadType: 96,
      rtcpFeedback: [
        { type: 'nack' },
        { type: 'nack', parameter: 'pli' },
        { type: 'ccm', parameter: 'fir' },
        { type: 'goog-remb' },
      ],
    }),
  ],
};

const config: RTCPeerConnectionConfig = {
  codecs,
  // A simulcast camera names each layer by rid (RFC 8852); without these Chrome sends one stream.
  // The repaired rid goes with RTX, which is not negotiated: accepted so Chrome's offer matches.
  headerExtensions: { audio: [], video: [useSdesMid(), useSdesRTPStreamId(), useRepairedRtpStreamId()] },
  iceUseIpv6: false,
  iceAdditionalHostAddresses: [LOOPBACK],
  iceInterfaceAddresses: { udp4: LOOPBACK },
  iceFilterCandidatePair: (pair) =>
    pair.localCandidate.host === LOOPBACK && pair.remoteCandidate.host === LOOPBACK,
};

export function createPeer(): RTCPeerConnection {
  const pc = new RTCPeerConnection(config);
  routeKeyframeRequestsToSenders(pc);
  collectTransports(pc);
  return pc;
}

/** Every transport werift made for a peer (`collectTransports`). */
const transportsOf = new WeakMap<RTCPeerConnection, Set<RTCDtlsTransport>>();

/**
 * Until a session has a remote description that bundles, werift gives each
 * new m-line a transport of its own (`addTransceiver`), which gathers, binds
 * its ICE sockets and even connects; when the browser's answer bundles them,
 * werift moves the m-lines onto the first one and stops nothing, and its
 * close() stops only the transports in use. A viewer whose first pull took
 * 12 cameras kept 11 of them, 22 sockets, until the process ended, and the
 * benchmark that ran the SFU could not end at all. So every transport is
 * noted when made, and stopped once no m-line uses it.
 */
function collectTransports(pc: RTCPeerConnection): void {
  const made = new Set<RTCDtlsTransport>(pc.dtlsTransports);
  transportsOf.set(pc, made);
  const manager = (pc as unknown as WeriftInternals).secureManager;
  const createTransport = manager.createTransport.bind(manager);
  manager.createTransport = () => {
    const transport = createTransport();
    made.add(transport);
    return transport;
  };
}

/** Stops the transports werift made for `pc` that no m-line uses (after a negotiation step), or all of them. */
export function stopTransports(pc: RTCPeerConnection, { unusedOnly }: { unusedOnly: boolean }): void {
  const made = transportsOf.get(pc);
  if (!made) return;
  const inUse = new Set(unusedOnly ? pc.dtlsTransports : []);
  for (const transport of made) {
    if (inUse.has(transport)) continue;
    made.delete(transport);
    void transport.stop().catch(() => undefined);
  }
}

/**
 * werift hands a keyframe request (PLI) to whoever owns the SSRC it comes
 * from before the one it is about. A browser that also publishes sends its
 * feedback from the SSRC of a track it publishes, so a subscriber's request
 * reached that track's receiver, which ignores it: after packet loss, a
 * subscriber that needed a keyframe never got one and its video stayed
 * frozen. A request about one of this peer's senders goes to that sender.
 */
function routeKeyframeRequestsToSenders(pc: RTCPeerConnection): void {
  const { router } = pc as unknown as WeriftInternals;
  const route = router.routeRtcp.bind(router);
  router.routeRtcp = (packet) => {
    if (
      packet instanceof RtcpPayloadSpecificFeedback &&
      !(packet.feedback instanceof ReceiverEstimatedMaxBitrate)
    ) {
      const about = router.ssrcTable[packet.feedback.mediaSsrc];
      if (about instanceof RTCRtpSender) return about.handleRtcpPacket(packet);
    }
    route(packet);
  };
}

/** Drops every ICE candidate that is not on 127.0.0.1: nothing leaves the machine. */
export function keepLoopbackCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || line.split(' ')[4] === LOOPBACK)
    .join('\r\n');
}

/**
 * werift sends Chrome no usable bandwidth estimate, so Chrome would fall to
 * 320×240. Telling it where to start (and not to go below) keeps 640×480.
 */
export function withVideoStartBitrate(sdp: string, kbps = 2500): string {
  const vp8 = /^a=rtpmap:(\d+) VP8\/90000$/m.exec(sdp)?.[1];
  if (!vp8) return sdp;
  const bitrate = `x-google-start-bitrate=${kbps};x-google-min-bitrate=${kbps}`;
  const fmtp = new RegExp(`^a=fmtp:${vp8} (.*)$`, 'm');
  if (fmtp.test(sdp))
    return sdp.replace(fmtp, (_line, params: string) => `a=fmtp:${vp8} ${params};${bitrate}`);
  return sdp.replace(new RegExp(`^(a=rtpmap:${vp8} VP8/90000)$`, 'm'), `$1\r\na=fmtp:${vp8} ${bitrate}`);
}

/** The BUNDLE tag: the first mid of the `a=group:BUNDLE` line, whose transport the whole group uses. */
export function bundleTag(sdp: string): string | undefined {
  return bundleGroup(sdp)[0];
}

function bundleGroup(sdp: string): string[] {
  return /^a=group:BUNDLE(.*)$/m.exec(sdp)?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
}

function withBundleGroup(sdp: string, mids: string[]): string {
  return sdp
    .split('\r\n')
    .flatMap((line) => {
      if (!line.startsWith('a=group:BUNDLE')) return [line];
      return mids.length > 0 ? [`a=group:BUNDLE ${mids.join(' ')}`] : [];
    })
    .join('\r\n');
}

/** Each m-line's mid and port, in order (port 0: rejected). */
function mediaSections(sdp: string): { kind: string; mid: string | undefined; port: number }[] {
  return sdp
    .split(/\r\n(?=m=)/)
    .slice(1)
    .map((section) => {
      const [, kind = '', port = '0'] = /^m=(\w+) (\d+)/.exec(section) ?? [];
      return { kind, mid: /^a=mid:(\S+)$/m.exec(section)?.[1], port: Number(port) };
    });
}

/**
 * werift's answer groups every m-line, rejected ones too (browsers refuse
 * that): an answer bundles only what the offer bundled, in the offer's order,
 * so that both sides name the same BUNDLE tag.
 */
export function bundleLikeOffer(answer: string, offer: string): string {
  const answered = bundleGroup(answer);
  return withBundleGroup(
    answer,
    bundleGroup(offer).filter((mid) => answered.includes(mid)),
  );
}

/**
 * werift's offers group every m-line, rejected ones too, which browsers
 * refuse: the SFU's offers bundle open m-lines only.
 */
export function bundleOpenMLines(offer: string): string {
  const open = mediaSections(offer)
    .filter((m) => m.port !== 0 && m.mid !== undefined)
    .map((m) => m.mid!);
  return withBundleGroup(
    offer,
    bundleGroup(offer).filter((mid) => open.includes(mid)),
  );
}

/**
 * The werift 0.24 internals needed to give a session a new transport (the
 * version is pinned; werift has no public API for this).
 */
interface WeriftInternals {
  secureManager: { createTransport(): RTCDtlsTransport };
  router: {
    routeRtp(rtp: RtpPacket): void;
    routeRtcp(rtcp: RtcpPacket): void;
    ssrcTable: Record<number, { handleRtcpPacket(rtcp: RtcpPacket): void } | undefined>;
  };
}

/**
 * Moves every transceiver onto a new ICE and DTLS transport (new port, new
 * DTLS association, the same ICE credentials and certificate), as the browser
 * does when its BUNDLE tag moves, and stops the one they leave. werift
 * connects the new one when the next answer is set. Returns whether the old
 * one was ICE-controlling: the browser keeps its role on its new transport.
 */
export function moveToNewTransport(pc: RTCPeerConnection): boolean {
  const internals = pc as unknown as WeriftInternals;
  const previous = pc.dtlsTransports;
  const transport = internals.secureManager.createTransport();
  transport.onRtp.subscribe((rtp) => internals.router.routeRtp(rtp));
  transport.onRtcp.subscribe((rtcp) => internals.router.routeRtcp(rtcp));
  for (const transceiver of pc.getTransceivers()) transceiver.setDtlsTransport(transport);
  for (const old of previous) void old.stop().catch(() => undefined);
  return previous[0]?.iceTransport.connection.iceControlling ?? false;
}

/**
 * werift sets the ICE role from offer/answer on every negotiation; a new
 * transport would take the answerer's (controlled) role while the browser
 * keeps its own, and the two would have to repair the conflict first.
 */
export function setIceRole(pc: RTCPeerConnection, controlling: boolean): void {
  for (const { connection } of pc.iceTransports) connection.iceControlling = controlling;
}

/**
 * Chrome's descriptions keep a rejected m-line's old ICE credentials and
 * candidates; werift applies every m-line's to the one bundled transport,
 * and the last one wins (after an ICE restart, the stale ones). A rejected
 * m-line takes the BUNDLE tag's credentials and no candidates.
 */
export function rejectedLikeBundle(sdp: string): string {
  const [head = '', ...sections] = sdp.split(/\r\n(?=m=)/);
  const tagged = sections.find((section) => /^a=mid:(\S+)$/m.exec(section)?.[1] === bundleTag(sdp));
  const ufrag = tagged && /^a=ice-ufrag:.*$/m.exec(tagged)?.[0];
  const pwd = tagged && /^a=ice-pwd:.*$/m.exec(tagged)?.[0];
  if (!ufrag || !pwd) return sdp;
  const rejected = (section: string) =>
    section
      .split('\r\n')
      .filter((line) => !line.startsWith('a=candidate:'))
      .map((line) => (line.startsWith('a=ice-ufrag:') ? ufrag : line.startsWith('a=ice-pwd:') ? pwd : line))
      .join('\r\n');
  return [head, ...sections.map((section) => (/^m=\w+ 0 /.test(section) ? rejected(section) : section))].join(
    '\r\n',
  );
}

/** Drops every `a=candidate` line. */
export function withoutCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:'))
    .join('\r\n');
}

/**
 * Brings werift's transceivers in line with a browser offer before werift
 * reads it: the transceiver of an m-line the browser rejected is rejected for
 * good, and one whose m-line the browser gave to a new mid is gone (werift
 * would keep it on that m-line index and later hand it the new mid).
 */
export function followBrowserMLines(pc: RTCPeerConnection, offer: string): void {
  const sections = mediaSections(offer);
  const transceivers = pc.getTransceivers(); // werift's own list
  for (let i = transceivers.length - 1; i >= 0; i--) {
    const transceiver = transceivers[i]!;
    const { mid, mLineIndex } = transceiver;
    if (mid === null || mLineIndex === undefined) continue;
    const section = sections[mLineIndex];
    if (section?.mid !== mid) transceivers.splice(i, 1);
    else if (section.port === 0) rejectMLine(transceiver);
  }
}

/**
 * A closed track's m-line: rejected (port 0) in the SFU's next offers, and
 * never recycled by werift, which would give the closed track's mid to a new
 * track (JSEP wants a new mid) or take the m-line of another closed track
 * than the one the browser recycled.
 */
export function rejectMLine(transceiver: RTCRtpTransceiver): void {
  transceiver.setDirection('inactive');
  transceiver.usedForSender = true;
}

/** Packets and STUN messages heard from the browser so far: a count that stops when it is gone. */
export function packetsFromRemote(pc: RTCPeerConnection): number {
  let count = 0;
  for (const { connection } of pc.iceTransports)
    for (const pair of connection.checkList)
      count += pair.packetsReceived + pair.requestsReceived + pair.responsesReceived;
  return count;
}

interface NackGenerator {
  addPacket(packet: RtpPacket): void;
  close(): void;
}

/**
 * werift 0.24 has one NACK generator per receiver and feeds it every SSRC's
 * sequence numbers: with a simulcast publisher's layers interleaved, it takes
 * each jump from one layer's numbers to another's for thousands of lost
 * packets and asks for them every 5 ms. Gives each SSRC a generator of its
 * own (werift's class, taken from the one it made; the version is pinned).
 */
export function nackPerSsrc(receiver: RTCRtpReceiver): void {
  const internals = receiver as unknown as { nack: NackGenerator };
  const Generator = internals.nack.constructor as new (receiver: RTCRtpReceiver) => NackGenerator;
  const bySsrc = new Map<number, NackGenerator>();
  internals.nack.close();
  internals.nack = {
    addPacket(packet) {
      let generator = bySsrc.get(packet.header.ssrc);
      if (!generator) bySsrc.set(packet.header.ssrc, (generator = new Generator(receiver)));
      generator.addPacket(packet);
    },
    close() {
      for (const generator of bySsrc.values()) generator.close();
    },
  };
}
