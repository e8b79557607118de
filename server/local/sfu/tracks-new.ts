/**
 * `POST /sessions/{id}/tracks/new`, the four shapes of CALLS-API.md: publish
 * from a browser offer; local tracks the SFU offers (a server peer such as the
 * AI model has no offer to give); pulls, answered with an SFU offer; and pulls
 * into an existing transceiver (`mid: "#name"`), with no negotiation.
 */
import {
  MAX_TRACKS_PER_CALL,
  tracksRequest,
  type SessionDescription,
  type TrackObject,
} from '../../calls/schema.js';
import { HttpError, parse } from './http-error.js';
import { exclusive } from './negotiation-lock.js';
import { NOT_PUBLISHED, type Kind, type PublishedTrack, type SfuSession } from './session.js';
import { invalidSimulcast, simulcastSettings, type SimulcastSettings } from './simulcast.js';

export async function tracksNew(
  session: SfuSession,
  body: unknown,
  sessions: ReadonlyMap<string, SfuSession>,
) {
  const request = parse(tracksRequest, body);
  if (request.tracks.length === 0 || request.tracks.length > MAX_TRACKS_PER_CALL)
    throw new HttpError(400, 'invalid_params', `between 1 and ${MAX_TRACKS_PER_CALL} tracks per call`);
  const locations = new Set(request.tracks.map((t) => t.location));
  if (locations.size !== 1)
    throw new HttpError(400, 'invalid_params', 'tracks must be all local or all remote');
  if (!locations.has('local')) return pull(session, request.tracks, sessions);
  if (request.sessionDescription) return publish(session, request.sessionDescription, request.tracks);
  return offerLocalTracks(session, request.tracks);
}

async function publish(session: SfuSession, offer: SessionDescription, tracks: TrackObject[]) {
  if (offer.type !== 'offer')
    throw new HttpError(400, 'invalid_params', 'local tracks are published from an offer');
  const items = tracks.map((t) => {
    if (!t.mid || !t.trackName)
      throw new HttpError(400, 'invalid_params', 'local tracks need mid and trackName');
    return { mid: t.mid, trackName: t.trackName };
  });
  return exclusive(session, async () => {
    const { answer, tracks } = await session.publish(offer, items);
    return { requiresImmediateRenegotiation: false, sessionDescription: answer, tracks };
  });
}

/** Local tracks with no offer: the SFU offers their m-lines, and the peer answers with `renegotiate`. */
async function offerLocalTracks(session: SfuSession, tracks: TrackObject[]) {
  const wanted = tracks.map((t) => {
    if (!t.trackName || !t.kind)
      throw new HttpError(400, 'invalid_params', 'local tracks without an offer need trackName and kind');
    if (t.mid)
      throw new HttpError(400, 'invalid_params', 'a mid names an m-line of an offer, and none was given');
    return {
      trackName: t.trackName,
      kind: t.kind as Kind,
      bidirectional: t.bidirectionalMediaStream === true,
    };
  });
  return exclusive(session, async () => {
    await connectedOr425(session);
    const names = new Set<string>();
    const items: TrackObject[] = wanted.map(({ trackName }) => {
      const taken = names.has(trackName) || session.published.get(trackName)?.active;
      names.add(trackName);
      return taken
        ? { trackName, errorCode: 'invalid_params', errorDescription: 'track name in use' }
        : { trackName };
    });
    const offered = wanted.filter((_, i) => !items[i]!.errorCode);
    if (offered.length === 0) return { requiresImmediateRenegotiation: false, tracks: items };
    const { offer, tracks: made } = await session.offerLocalTracks(offered);
    let next = 0;
    return {
      requiresImmediateRenegotiation: true,
      sessionDescription: offer,
      tracks: items.map((item) => (item.errorCode ? item : made[next++]!)),
    };
  });
}

/** Pulls remote tracks: into new m-lines (an SFU offer) or into a local track's transceiver (`#name`). */
async function pull(session: SfuSession, tracks: TrackObject[], sessions: ReadonlyMap<string, SfuSession>) {
  return exclusive(session, async () => {
    await connectedOr425(session);
    const toPull: { index: number; source: PublishedTrack; simulcast: SimulcastSettings }[] = [];
    const items: TrackObject[] = tracks.map((t, index) => {
      const named = { sessionId: t.sessionId, trackName: t.trackName };
      const source =
        t.sessionId && t.trackName ? sessions.get(t.sessionId)?.published.get(t.trackName) : undefined;
      if (t.mid?.startsWith('#')) return { ...named, ...session.feed(t.mid.slice(1), source) };
      const invalid = invalidSimulcast(t.simulcast);
      if (invalid) return { ...named, ...invalid };
      if (!source?.active) return { ...named, ...NOT_PUBLISHED };
      toPull.push({ index, source, simulcast: simulcastSettings(t.simulcast) });
      return t.simulcast ? { ...named, simulcast: t.simulcast } : named;
    });
    if (toPull.length === 0) return { requiresImmediateRenegotiation: false, tracks: items };
    const { offer, mids } = await session.pull(toPull);
    toPull.forEach(({ index }, i) => (items[index] = { ...items[index], mid: mids[i] }));
    return { requiresImmediateRenegotiation: true, sessionDescription: offer, tracks: items };
  });
}

async function connectedOr425(session: SfuSession): Promise<void> {
  if (!(await session.waitConnected()))
    throw new HttpError(425, 'session_error', 'the session did not connect in time');
}
