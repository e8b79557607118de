/**
 * werift set up for an SFU on loopback (TOOLCHAIN.md, "WebRTC on loopback"):
 * Opus and VP8 with the feedback Chrome needs, host candidates on 127.0.0.1
 * only, and the SDP edits that keep Chrome at full resolution.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, type RTCPeerConnectionConfig } from 'werift';

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
  iceUseIpv6: false,
  iceAdditionalHostAddresses: [LOOPBACK],
  iceInterfaceAddresses: { udp4: LOOPBACK },
  iceFilterCandidatePair: (pair) =>
    pair.localCandidate.host === LOOPBACK && pair.remoteCandidate.host === LOOPBACK,
};

export function createPeer(): RTCPeerConnection {
  return new RTCPeerConnection(config);
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

/**
 * werift's answer may group m-lines the offer did not (none at all when every
 * m-line is stopped, or a stopped one), which browsers reject: an answer may
 * only bundle what the offer bundled.
 */
export function bundleLikeOffer(answer: string, offer: string): string {
  const offered = /^a=group:BUNDLE(.*)$/m.exec(offer)?.[1]?.trim().split(/\s+/) ?? [];
  return answer
    .split('\r\n')
    .flatMap((line) => {
      if (!line.startsWith('a=group:BUNDLE')) return [line];
      const mids = line
        .slice('a=group:BUNDLE'.length)
        .trim()
        .split(/\s+/)
        .filter((mid) => offered.includes(mid));
      return mids.length > 0 ? [`a=group:BUNDLE ${mids.join(' ')}`] : [];
    })
    .join('\r\n');
}
