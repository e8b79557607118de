/**
 * How loud each participant's microphone is right now, read from the
 * connection's own statistics: `inbound-rtp` for what arrives (the level of
 * the decoded audio, whatever the sender put in its RTP headers; Chromium
 * measures it as the audio plays, so a track nobody plays reads 0) and
 * `media-source` for our own microphone. Nothing travels through the room
 * and no audio graph is built.
 */
import { sharedStats } from './shared-stats.js';
import type { ReceivedTrack } from './media-session.js';

/** Levels from 0 (silence) to 1 (full scale), by participant id; ours under `selfId`. */
export type AudioLevels = ReadonlyMap<string, number>;

interface LevelStats {
  type: string;
  kind?: string;
  trackIdentifier?: string;
  audioLevel?: number;
}

export async function readAudioLevels(
  pc: RTCPeerConnection,
  pulled: Iterable<ReceivedTrack>,
  microphone: MediaStreamTrack | undefined,
  selfId: string | null,
): Promise<AudioLevels> {
  const owners = new Map<string, string>();
  for (const t of pulled) if (t.track && t.slot === 'microphone') owners.set(t.track.id, t.participantId);
  const levels = new Map<string, number>();
  const report = await sharedStats(pc);
  report.forEach((stat: LevelStats) => {
    if (stat.kind !== 'audio' || stat.audioLevel === undefined || !stat.trackIdentifier) return;
    if (stat.type === 'inbound-rtp') {
      const owner = owners.get(stat.trackIdentifier);
      if (owner) levels.set(owner, Math.max(levels.get(owner) ?? 0, stat.audioLevel));
    } else if (stat.type === 'media-source' && selfId && stat.trackIdentifier === microphone?.id) {
      levels.set(selfId, stat.audioLevel);
    }
  });
  return levels;
}
