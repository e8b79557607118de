/**
 * The media side of a meeting, DOM-free apart from WebRTC itself. It keeps
 * one Calls session (`media/media-session.ts`) in line with what is wanted:
 * the local tracks that are on, and the tracks the others announce in the
 * room. Every change goes through one reconcile step in the negotiation
 * queue; a step that fails, or a connection that is lost or never comes up,
 * leads to a new session after a growing pause. Nothing here talks to the
 * room: the meeting core (`meeting.ts`) tells it who is there and announces
 * what it publishes.
 */
import { BehaviorSubject, distinctUntilChanged, Subject, type Observable } from 'rxjs';
import type { Participant } from '../protocol/index.js';
import type {
  CallClient,
  CallError,
  CallErrorCode,
  LocalMedia,
  MediaKind,
  RemoteMedia,
} from './call-types.js';
import { MediaApiError, type MediaApi } from './media-api.js';
import type { AudioLevels } from './media/audio-levels.js';
import { createBackoff, type Backoff } from './media/backoff.js';
import type { MonitorReading } from './media/connection-monitor.js';
import type { ReceivedCounters } from './media/connection-stats.js';
import { MediaSession, defaultSessionTiming, type SessionTiming } from './media/media-session.js';
import { createNegotiationQueue } from './media/negotiation-queue.js';
import {
  cameraEncodings,
  DEFAULT_RECEIVE_SETTINGS,
  layerForWidth,
  type CameraCaps,
  type ReceiveSettings,
} from './media/layers.js';
import { MEDIA_SLOTS, planPulls, wantedTracks } from './media/pull-plan.js';
import type { QualitySample } from './quality.js';

type DeviceKind = Exclude<MediaKind, 'screen'>;

export interface CallClientOptions {
  api: MediaApi;
  /** Opens the chosen microphone and/or camera; errors carry `code` and `message` (see devices.ts). */
  getStream: (request: { audio: boolean; video: boolean }) => Promise<MediaStream>;
  /** Defaults to `navigator.mediaDevices.getDisplayMedia`. */
  getDisplayMedia?: () => Promise<MediaStream>;
  /**
   * A muted microphone or camera-off track sends nothing, and Calls collects
   * a track without packets after 30 s. After this long off it is closed on
   * purpose, and published anew when turned on again. Default 20 s.
   */
  idleUnpublishMs?: number;
  timing?: Partial<SessionTiming>;
  backoff?: Backoff;
  /** Limits on the camera sent (bitrate, frame rate). */
  camera?: CameraCaps;
  /** Data saver and audio-only at the start. */
  receive?: ReceiveSettings;
}

/** A video on screen and how wide it is shown, in CSS pixels (for the simulcast layer it needs). */
export interface VideoSize {
  width: number;
  height: number;
}

/** What the call needs to know about the room. */
export interface RoomPresence {
  /** This participant's id while in the meeting; null in the lobby or after leaving. */
  selfId: string | null;
  /**
   * The room connection's id (the participant id it has once joined). With
   * it, a visitor in the lobby who turned something on gets a session that
   * publishes it before joining, so that joining only announces and pulls.
   */
  connectionId?: string | null;
  participants: readonly Participant[];
  /** The room connection is up, so media requests can be made. */
  connected: boolean;
}

/**
 * The media connection as a person would notice it: `none` (not in the
 * meeting, or nothing to send or receive), `connecting` (the first time),
 * `connected`, or `reconnecting` (it was up, and now ICE is disconnected or
 * failed, the session is being rebuilt, or nothing arrives while something
 * should: see `media/delivery-watch.ts`).
 */
export type MediaConnection = 'none' | 'connecting' | 'connected' | 'reconnecting';

/** One quality sample per participant in the meeting (you included), twice a second (see `quality.ts`). */
export interface QualityReading {
  at: number;
  samples: ReadonlyMap<string, QualitySample>;
}

/** What this participant publishes, as the refs others pull (`sessionId/trackName`). */
export type PublishedTracks = Partial<Record<MediaKind, string>>;

export interface MeetCallClient extends CallClient {
  /** The refs to announce in the room; a new session means new refs. */
  readonly published$: Observable<PublishedTracks>;
  /** Opens the newly chosen device for a medium that is on, without renegotiating. */
  switchDevice(kind: DeviceKind): Promise<void>;
  /** The room changed: who is in it, and whether we are. */
  follow(presence: RoomPresence): void;
  /** What is on now. */
  readonly snapshot: LocalMedia;
  /** The current Calls session, for diagnostics; null outside the meeting. */
  readonly sessionId: string | null;
  /** Resolves when no media work is queued or running (tests, benchmarks). */
  settled(): Promise<void>;
  /**
   * Receive only these videos (`videoKey(id, 'camera' | 'screen')`: what is
   * on screen), every microphone still; null (the start) receives them all.
   * With sizes, each camera comes in the simulcast layer its tile needs.
   */
  showVideo(keys: ReadonlySet<string> | ReadonlyMap<string, VideoSize> | null): void;
  /** Data saver (lowest layers only, no full layer sent) and audio-only (no video received). */
  setReceiveSettings(settings: ReceiveSettings): void;
  /** How loud each microphone is now, from the connection's statistics (see `audio-levels.ts`). */
  audioLevels(): Promise<AudioLevels>;
  /** The current Calls session, for diagnostics only (to read, never to change); null without one. */
  readonly session: Readonly<MediaSession> | null;
  /** How media gets through, per participant, while in the meeting with a connection (`media/connection-stats.ts`). */
  readonly qualityReadings$: Observable<QualityReading>;
  readonly mediaConnection$: Observable<MediaConnection>;
  /** Stops the devices and the connection and completes every observable. No request is sent. */
  close(): void;
}

export function createCallClient(options: CallClientOptions): MeetCallClient {
  const { api } = options;
  const idleUnpublishMs = options.idleUnpublishMs ?? 20_000;
  const timing: SessionTiming = { ...defaultSessionTiming, ...options.timing };
  const backoff = options.backoff ?? createBackoff();
  const screenShareSupported =
    typeof navigator !== 'undefined' && typeof navigator.mediaDevices?.getDisplayMedia === 'function';
  const getDisplayMedia =
    options.getDisplayMedia ??
    (() => navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false }));

  const local = new BehaviorSubject<LocalMedia>({
    microphone: false,
    camera: false,
    screen: false,
    cameraStream: null,
    screenStream: null,
  });
  const remote = new BehaviorSubject<ReadonlyMap<string, RemoteMedia>>(new Map());
  const published = new BehaviorSubject<PublishedTracks>({});
  const errors = new Subject<CallError>();
  const qualityReadings = new Subject<QualityReading>();
  const mediaConnection = new BehaviorSubject<MediaConnection>('none');
  /** The local tracks that are on. */
  const tracks: Partial<Record<MediaKind, MediaStreamTrack>> = {};
  /** When each medium was turned off (for the idle unpublish). */
  const offSince: Partial<Record<DeviceKind, number>> = {};
  const queue = createNegotiationQueue();
  let presence: RoomPresence = { selfId: null, participants: [], connected: false };
  let videoShown: ReadonlySet<string> | null = null;
  /** How wide each video on screen is, in device pixels. */
  let videoWidths: ReadonlyMap<string, number> = new Map();
  let receive: ReceiveSettings = options.receive ?? DEFAULT_RECEIVE_SETTINGS;
  const cameraCaps = options.camera ?? {};
  let session: MediaSession | null = null;
  /**
   * The connection (or participant) the session was made for: the room closes
   * it when that one goes or leaves the meeting, so anyone else needs a new one.
   */
  let sessionOwner: string | null = null;
  let closed = false;
  /** Media is not set up on this server: do not ask again. */
  let unavailable = false;
  let reconcileQueued = false;
  /** The room connection came back: ask Calls whether the session is still there. */
  let verifySession = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let stopMonitor: (() => void) | undefined;
  /** Pulled refs that stopped delivering: the next reconcile pulls them again. */
  const stalled = new Set<string>();
  /** Nothing arrives on the session's connection while something should. */
  let connectionSilent = false;
  /** Media got through in this meeting: a connection down since then is reconnecting. */
  let everConnected = false;

  /** What to receive now: what is on screen (nothing in audio-only), cameras in the layer their tile needs. */
  const wanted = () =>
    wantedTracks(presence.participants, presence.selfId, receive.audioOnly ? new Set() : videoShown, (key) =>
      layerForWidth(videoWidths.get(key), receive),
    );

  const report = (code: CallErrorCode, message: string, kind?: MediaKind) =>
    errors.next(kind ? { code, message, kind } : { code, message });

  const emitLocal = () => {
    const value = local.value;
    const cameraTracks = [tracks.microphone, tracks.camera].filter((t): t is MediaStreamTrack => !!t);
    local.next({
      microphone: !!tracks.microphone,
      camera: !!tracks.camera,
      screen: !!tracks.screen,
      cameraStream: sameTracks(value.cameraStream, cameraTracks)
        ? value.cameraStream
        : cameraTracks.length
          ? new MediaStream(cameraTracks)
          : null,
      screenStream: tracks.screen
        ? sameTracks(value.screenStream, [tracks.screen])
          ? value.screenStream
          : new MediaStream([tracks.screen])
        : null,
    });
  };

  const emitPublished = () => {
    const refs = session && !session.broken ? { ...session.published } : {};
    if (JSON.stringify(refs) !== JSON.stringify(published.value)) published.next(refs);
  };

  /** Remote media by participant; a stream object changes only when its tracks do. */
  const emitRemote = () => {
    const before = remote.value;
    const next = new Map<string, RemoteMedia>();
    const byParticipant = new Map<string, { slot: MediaKind; track: MediaStreamTrack }[]>();
    for (const t of session?.pulled.values() ?? []) {
      if (!t.track) continue;
      byParticipant.set(t.participantId, [
        ...(byParticipant.get(t.participantId) ?? []),
        { slot: t.slot, track: t.track },
      ]);
    }
    for (const [id, pulled] of byParticipant) {
      const old = before.get(id);
      const cameraTracks = pulled.filter((t) => t.slot !== 'screen').map((t) => t.track);
      const screenTrack = pulled.find((t) => t.slot === 'screen')?.track ?? null;
      next.set(id, {
        stream: old && sameTracks(old.stream, cameraTracks) ? old.stream : new MediaStream(cameraTracks),
        screen: screenTrack
          ? old?.screen && sameTracks(old.screen, [screenTrack])
            ? old.screen
            : new MediaStream([screenTrack])
          : null,
      });
    }
    remote.next(next);
  };

  /** Runs a reconcile step soon (once, however many changes asked for it). */
  const reconcileSoon = (delayMs = 0) => {
    if (closed) return;
    if (delayMs > 0) {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => reconcileSoon(), delayMs);
      return;
    }
    if (reconcileQueued) return;
    reconcileQueued = true;
    void queue.run(async () => {
      reconcileQueued = false;
      await reconcile();
    });
  };

  const discardSession = () => {
    stopMonitor?.();
    stopMonitor = undefined;
    session?.dispose();
    session = null;
    emitPublished();
    emitMediaConnection();
  };

  /**
   * Whether the owner of a pulled track surely sends on it now: a microphone
   * or camera that is on. Not the AI agent (it speaks only when asked), and
   * not a screen (a still one may send nothing for a while).
   */
  const sending = ({ participantId, slot }: Pick<ReceivedCounters, 'participantId' | 'slot'>) => {
    const owner = presence.participants.find((p) => p.id === participantId);
    if (!owner || owner.reconnecting || owner.role === 'agent') return false;
    return slot === 'microphone' ? owner.microphone : slot === 'camera' && owner.camera;
  };

  const emitMediaConnection = () => {
    const next = mediaConnectionNow();
    if (next !== mediaConnection.value) mediaConnection.next(next);
  };

  function mediaConnectionNow(): MediaConnection {
    const s = session;
    const up = !!s && !s.broken;
    // Out of the meeting, or everything closed (the browser dropped its transport): nothing is to flow.
    const idle = !presence.selfId || closed || (up && s.drained);
    if (idle || (up && s.connected && !connectionSilent)) everConnected = !idle;
    if (idle) return 'none';
    if (everConnected) return up && s.connected && !connectionSilent ? 'connected' : 'reconnecting';
    return s?.pc.remoteDescription ? 'connecting' : 'none';
  }

  /**
   * Twice a second while in the meeting with a connected session: stalled
   * pulls, silence, and quality samples (`media/connection-monitor.ts`,
   * loaded now: the lobby does without it, and a session warmed in the
   * lobby is not read there).
   */
  function watch(s: MediaSession): void {
    connectionSilent = false;
    void import('./media/connection-monitor.js').then(({ monitorConnection }) => {
      if (session !== s || closed) return;
      stopMonitor = monitorConnection(s.pc, {
        active: () => !!presence.selfId,
        pulled: () => s.pulled.values(),
        sending,
        participants: () => ({
          ids: presence.participants.map((p) => p.id),
          selfId: presence.selfId ?? '',
        }),
        onChange: emitMediaConnection,
        onReading: (reading: MonitorReading) => {
          if (session !== s || !presence.selfId) return;
          connectionSilent = reading.connectionSilent;
          emitMediaConnection();
          if (reading.stalled.length > 0) {
            for (const ref of reading.stalled) stalled.add(ref);
            reconcileSoon();
          }
          if (reading.samples) qualityReadings.next({ at: reading.at, samples: reading.samples });
        },
      });
    });
  }

  /**
   * Brings the session in line with what is wanted; on failure, plans the
   * next try. In the lobby that is publishing what is on (nothing is pulled
   * there), so that joining only announces and pulls. A visitor with nothing
   * on gets no session before joining: a connection with no media line has
   * no transport to warm, and a session left unused is ended (the local SFU
   * after 30 s; Calls does not say).
   */
  async function reconcile(): Promise<void> {
    if (closed) return;
    const { selfId } = presence;
    const owner = presence.connectionId ?? selfId;
    // Made for a connection that is gone, or a meeting left: the room closes what it held.
    if (session && sessionOwner !== owner) {
      discardSession();
      emitRemote();
    }
    if (!owner || !presence.connected || unavailable) return;
    // In the lobby only what is on is worth a session: one left with nothing negotiated goes.
    if (
      !selfId &&
      !MEDIA_SLOTS.some((kind) => tracks[kind]) &&
      (!session?.pc.remoteDescription || session.broken)
    ) {
      if (session) discardSession();
      return;
    }
    try {
      if (verifySession && session && !session.broken) {
        const verdict = await onCalls(session);
        // Not back in the room yet (a key from before the reconnect): its snapshot runs this again.
        if (verdict === 'ask-later') return;
        if (verdict === 'gone') discardSession();
      }
      verifySession = false;
      const wantsToPull = !!selfId && wanted().size > 0;
      if (!session || session.broken || (session.drained && wantsToPull)) await openSession(owner);
      const s = session!;
      await sendLocal(s);
      if (selfId) await syncPulls(s);
      backoff.reset();
      emitPublished();
    } catch (error) {
      await handleFailure(error);
    }
  }

  /**
   * Whether Calls still has the session. Asked after the room connection
   * comes back: Calls may have ended it meanwhile (the media path broke too)
   * while the browser's connection still looks up, which it can for many
   * seconds. Other failures are thrown like any step's.
   */
  async function onCalls(s: MediaSession): Promise<'there' | 'gone' | 'ask-later'> {
    try {
      await api.check({ sessionId: s.id });
      return 'there';
    } catch (error) {
      if (!(error instanceof MediaApiError)) throw error;
      // Ended on Calls, or the room no longer counts it as ours: either way, a new one.
      if (error.code === 'media-session-gone' || error.code === 'not-your-session') return 'gone';
      if (error.recovery === 'wait-for-room') return 'ask-later';
      throw error;
    }
  }

  async function handleFailure(error: unknown): Promise<void> {
    // Closed while a step was under way (the element was removed): that step failing is expected.
    if (closed) return;
    const recovery = error instanceof MediaApiError ? error.recovery : 'rebuild';
    // Calls took nothing (busy, throttled): the same session tries again later.
    if (recovery === 'retry' && session && !session.broken && (await session.rollback().catch(() => false))) {
      emitPublished();
      // Not sooner than the server asked (a rate limit says when it has room again).
      reconcileSoon(Math.max(backoff.next(), (error as MediaApiError).retryAfterMs ?? 0));
      return;
    }
    if (recovery === 'stop') {
      unavailable = error instanceof MediaApiError && error.code === 'media-unavailable';
      discardSession();
      report('media-unavailable', (error as Error).message);
      return;
    }
    discardSession();
    // Waiting for the room (reconnecting, resuming): its next change starts us again.
    if (recovery === 'wait-for-room') return;
    console.warn('Meetkit: media connection problem, starting over', error);
    report('connection-failed', 'Video connection problem: reconnecting…');
    reconcileSoon(backoff.next());
  }

  async function openSession(owner: string): Promise<void> {
    discardSession();
    const { sessionId, iceServers } = await api.session();
    sessionOwner = owner;
    const s: MediaSession = new MediaSession(
      sessionId,
      iceServers,
      api,
      timing,
      () => {
        if (session !== s) return;
        emitMediaConnection();
        report('connection-failed', 'Video connection lost: reconnecting…');
        reconcileSoon(backoff.next());
      },
      emitRemote,
    );
    session = s;
    stalled.clear();
    watch(s);
  }

  /** Replaces, publishes and unpublishes local tracks to match what is on. */
  async function sendLocal(s: MediaSession): Promise<void> {
    const now = Date.now();
    const toPublish: Parameters<MediaSession['publish']>[0] = [];
    const toUnpublish: MediaKind[] = [];
    for (const kind of MEDIA_SLOTS) {
      const track = tracks[kind] ?? null;
      const sender = s.senders[kind];
      if (sender) {
        if (sender.sender.track !== track) await sender.sender.replaceTrack(track);
        // Off for long (Calls would collect it), or a screen share that ended.
        const idle = kind === 'screen' || now - (offSince[kind] ?? now) >= idleUnpublishMs;
        if (!track && idle) toUnpublish.push(kind);
      } else if (track) {
        // The camera in simulcast layers, for each viewer to take the one its tile needs.
        toPublish.push(
          kind === 'camera'
            ? { kind, track, sendEncodings: cameraEncodings(cameraCaps, receive.dataSaver) }
            : { kind, track },
        );
      }
    }
    if (toUnpublish.length > 0) await s.unpublish(toUnpublish);
    if (toPublish.length > 0) await s.publish(toPublish);
    emitPublished();
    scheduleIdleUnpublish(s);
  }

  /** Looks again when the next medium that is off but still published has been off for long. */
  function scheduleIdleUnpublish(s: MediaSession): void {
    clearTimeout(idleTimer);
    let next = Infinity;
    for (const kind of ['microphone', 'camera'] as const) {
      const since = offSince[kind];
      if (since !== undefined && s.senders[kind] && !tracks[kind])
        next = Math.min(next, since + idleUnpublishMs);
    }
    if (Number.isFinite(next)) idleTimer = setTimeout(() => reconcileSoon(), Math.max(0, next - Date.now()));
  }

  async function syncPulls(s: MediaSession): Promise<void> {
    const plan = planPulls({
      wanted: wanted(),
      pulled: s.pulled,
      missing: s.missing,
      now: Date.now(),
      stalled,
    });
    stalled.clear();
    for (const ref of plan.forget) s.missing.delete(ref);
    if (plan.drop.length > 0) {
      await s.drop(plan.drop);
      emitRemote();
    }
    if (plan.pull.length > 0) await s.pull(plan.pull);
    if (plan.relayer.length > 0) await s.setLayers(plan.relayer);
    emitRemote();
    const retryAt = planPulls({
      wanted: wanted(),
      pulled: s.pulled,
      missing: s.missing,
      now: Date.now(),
    }).nextRetryAt;
    // Outside the queue: a track not flowing yet never holds up anything else.
    if (retryAt !== null) reconcileSoon(Math.max(1, retryAt - Date.now()));
  }

  async function open(kind: DeviceKind): Promise<MediaStreamTrack | null> {
    try {
      const stream = await options.getStream({ audio: kind === 'microphone', video: kind === 'camera' });
      const track = (kind === 'microphone' ? stream.getAudioTracks() : stream.getVideoTracks())[0];
      for (const other of stream.getTracks()) if (other !== track) other.stop();
      if (!track) throw Object.assign(new Error(`No ${kind} found`), { code: 'device-not-found' });
      return track;
    } catch (error) {
      const { code, message } = error as { code?: CallErrorCode; message?: string };
      report(code ?? 'media-unavailable', message ?? `Cannot use the ${kind}`, kind);
      return null;
    }
  }

  /** Replaces what a sender sends at once (no negotiation), then lets reconcile do the rest. */
  async function applyTrack(kind: MediaKind): Promise<void> {
    emitLocal();
    const sender = session?.senders[kind];
    if (sender) await sender.sender.replaceTrack(tracks[kind] ?? null);
    reconcileSoon();
  }

  async function setDevice(kind: DeviceKind, on: boolean): Promise<void> {
    if (on === !!tracks[kind] || closed) return;
    if (on) {
      const track = await open(kind);
      if (!track || closed || tracks[kind]) return track?.stop();
      tracks[kind] = track;
      delete offSince[kind];
    } else {
      tracks[kind]?.stop();
      delete tracks[kind];
      // Off: the sender keeps its place (turning back on soon needs no renegotiation), for a while.
      offSince[kind] = Date.now();
    }
    await applyTrack(kind);
  }

  async function setScreenShare(on: boolean): Promise<void> {
    if (on === !!tracks.screen || closed) return;
    if (!on) {
      tracks.screen?.stop();
      delete tracks.screen;
      return applyTrack('screen');
    }
    let stream: MediaStream;
    try {
      stream = await getDisplayMedia();
    } catch (error) {
      // Cancelling the browser's picker is a choice, not an error.
      if ((error as Error).name !== 'NotAllowedError' && (error as Error).name !== 'AbortError')
        report('screen-share-failed', 'Cannot share the screen', 'screen');
      return;
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    // The browser's own "Stop sharing" button.
    track.addEventListener('ended', () => {
      if (tracks.screen === track) void setScreenShare(false);
    });
    tracks.screen = track;
    await applyTrack('screen');
  }

  /** Data saver turned on or off: the full layer of the camera sent stops or starts, no renegotiation. */
  async function applySendLayers(): Promise<void> {
    const sender = session?.senders.camera?.sender;
    if (!sender) return;
    const parameters = sender.getParameters();
    const wantedLayers = cameraEncodings(cameraCaps, receive.dataSaver);
    for (const encoding of parameters.encodings) {
      const layer = wantedLayers.find((e) => e.rid === encoding.rid);
      if (layer) encoding.active = layer.active ?? true;
    }
    await sender.setParameters(parameters).catch((error: unknown) => {
      console.warn('Meetkit: cannot change the camera layers sent', error);
    });
  }

  /** Out of the meeting: the devices are released too. */
  function releaseDevices(): void {
    for (const kind of MEDIA_SLOTS) {
      tracks[kind]?.stop();
      delete tracks[kind];
    }
    for (const kind of ['microphone', 'camera'] as const) delete offSince[kind];
    clearTimeout(idleTimer);
    emitLocal();
  }

  return {
    local$: local.asObservable(),
    remote$: remote.asObservable(),
    published$: published.pipe(distinctUntilChanged()),
    errors$: errors.asObservable(),
    qualityReadings$: qualityReadings.asObservable(),
    mediaConnection$: mediaConnection.pipe(distinctUntilChanged()),
    screenShareSupported,
    get snapshot() {
      return local.value;
    },
    get sessionId() {
      return session?.id ?? null;
    },
    setMicrophone: (on) => setDevice('microphone', on),
    setCamera: (on) => setDevice('camera', on),
    setScreenShare,
    async switchDevice(kind) {
      if (!tracks[kind]) return;
      const track = await open(kind);
      if (!track) return;
      tracks[kind]?.stop();
      tracks[kind] = track;
      // replaceTrack: no renegotiation, the others keep their subscription.
      await applyTrack(kind);
    },
    follow(next) {
      const left = presence.selfId !== null && next.selfId !== presence.selfId;
      if (next.connected && !presence.connected && next.selfId && next.selfId === presence.selfId && session)
        verifySession = true;
      presence = next;
      // The room closed what the session published and pulled in the meeting: the lobby starts afresh.
      if (left) sessionOwner = null;
      if (left && !next.selfId) releaseDevices();
      emitMediaConnection();
      reconcileSoon();
    },
    showVideo(videos) {
      const keys = videos && new Set(videos.keys());
      const scale = globalThis.devicePixelRatio || 1;
      const sizes =
        videos instanceof Map ? (videos as ReadonlyMap<string, VideoSize>) : new Map<string, VideoSize>();
      const widths = new Map([...sizes].map(([key, size]) => [key, size.width * scale] as const));
      const same =
        keys === videoShown ||
        (keys &&
          videoShown &&
          keys.size === videoShown.size &&
          [...keys].every((key) => videoShown!.has(key)));
      const layersChanged = [...(keys ?? [])].some(
        (key) => layerForWidth(widths.get(key), receive) !== layerForWidth(videoWidths.get(key), receive),
      );
      videoWidths = widths;
      if (same && !layersChanged) return;
      videoShown = keys;
      reconcileSoon();
    },
    setReceiveSettings(settings) {
      if (settings.dataSaver === receive.dataSaver && settings.audioOnly === receive.audioOnly) return;
      const sendChanged = settings.dataSaver !== receive.dataSaver;
      receive = { ...settings };
      if (sendChanged) void applySendLayers();
      reconcileSoon();
    },
    settled: () => queue.idle(),
    async audioLevels() {
      // Loaded when first asked: only the speaking sampler asks, and only in the meeting.
      const { readAudioLevels } = await import('./media/audio-levels.js');
      if (!session || session.broken) return new Map();
      return readAudioLevels(session.pc, session.pulled.values(), tracks.microphone, presence.selfId);
    },
    get session() {
      return session;
    },
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      clearTimeout(idleTimer);
      releaseDevices();
      discardSession();
      remote.next(new Map());
      local.complete();
      remote.complete();
      published.complete();
      errors.complete();
      qualityReadings.complete();
      mediaConnection.complete();
    },
  };
}

function sameTracks(stream: MediaStream | null | undefined, tracks: readonly MediaStreamTrack[]): boolean {
  if (!stream) return tracks.length === 0;
  const current = stream.getTracks();
  return current.length === tracks.length && tracks.every((t) => current.includes(t));
}
