/**
 * The media side of a meeting, DOM-free apart from WebRTC itself: one
 * RTCPeerConnection and one Calls session per participant (through the
 * Worker's media API), publishing only what is on, pulling the other
 * participants' tracks as they appear in the room, one negotiation at a time.
 */
import { BehaviorSubject, distinctUntilChanged, map, Subject, type Subscription } from 'rxjs';
import type {
  CallClient,
  CallError,
  CallErrorCode,
  LocalMedia,
  MediaKind,
  RemoteMedia,
} from './call-types.js';
import { MediaApiError, type MediaApi } from './media-api.js';
import type { RoomClient } from './room-client.js';
import { emptyRoomState, selfOf, type RoomState } from './room-state.js';

type DeviceKind = Exclude<MediaKind, 'screen'>;

export interface CallClientOptions {
  room: RoomClient;
  api: MediaApi;
  /** Opens the chosen microphone and/or camera; errors carry `code` and `message` (see devices.ts). */
  getStream: (request: { audio: boolean; video: boolean }) => Promise<MediaStream>;
  /** Defaults to `navigator.mediaDevices.getDisplayMedia`. */
  getDisplayMedia?: () => Promise<MediaStream>;
  /** Waits between retries of a failed media request (ms). */
  retryDelaysMs?: readonly number[];
  /**
   * A muted microphone or camera-off track sends nothing, and Calls collects
   * a track without packets after 30 s. After this long off it is closed on
   * purpose, and published anew when turned on again. Default 20 s.
   */
  idleUnpublishMs?: number;
}

export interface MeetCallClient extends CallClient {
  /** Opens the newly chosen device for a medium that is on, without renegotiating. */
  switchDevice(kind: DeviceKind): Promise<void>;
  /** Media state for `meet-room`'s join: what to announce. */
  readonly snapshot: LocalMedia;
  /** The current Calls session, for diagnostics; null outside the meeting. */
  readonly sessionId: string | null;
  /** Stops everything, closes the Calls session and completes every observable. */
  close(): void;
}

interface PulledTrack {
  ref: string;
  mid: string;
  participantId: string;
  slot: MediaKind;
  track: MediaStreamTrack | null;
}

interface MediaSession {
  selfId: string;
  id: string;
  pc: RTCPeerConnection;
  /**
   * Our send transceivers. A microphone or camera turned off keeps its
   * transceiver with no track (until `idleUnpublishMs`); a screen share that
   * ends is closed at once.
   */
  senders: Partial<Record<MediaKind, RTCRtpTransceiver>>;
  /** `sessionId/trackName` of what we publish. */
  published: Partial<Record<MediaKind, string>>;
  pulled: Map<string, PulledTrack>;
  /** Refs not published yet, with the time to ask again. */
  missing: Map<string, { participantId: string; slot: MediaKind; retryAt: number; tries: number }>;
  closed: boolean;
}

const SLOTS: readonly MediaKind[] = ['microphone', 'camera', 'screen'];
const MISSING_RETRY_MS = 1_000;
const MISSING_MAX_TRIES = 10;
/** How long a connection may stay `disconnected` before we build a new session. */
const DISCONNECTED_GRACE_MS = 5_000;

export function createCallClient(options: CallClientOptions): MeetCallClient {
  const { room, api } = options;
  const retryDelays = options.retryDelaysMs ?? [250, 1_000, 2_500];
  const idleUnpublishMs = options.idleUnpublishMs ?? 20_000;
  const idleTimers: Partial<Record<DeviceKind, ReturnType<typeof setTimeout>>> = {};
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
  const errors = new Subject<CallError>();
  const tracks: Partial<Record<MediaKind, MediaStreamTrack>> = {};
  let session: MediaSession | null = null;
  let closed = false;
  let queue: Promise<void> = Promise.resolve();
  let syncQueued = false;
  let missingTimer: ReturnType<typeof setTimeout> | undefined;
  let disconnectedTimer: ReturnType<typeof setTimeout> | undefined;
  const subscriptions: Subscription[] = [];

  const report = (code: CallErrorCode, message: string, kind?: MediaKind) =>
    errors.next(kind ? { code, message, kind } : { code, message });

  /** One negotiation at a time: every change of the peer connection goes through here. */
  const enqueue = (work: () => Promise<void>): Promise<void> => {
    const run = queue.then(async () => {
      if (closed) return;
      try {
        await work();
      } catch (error) {
        // Left the meeting meanwhile: the room closed our tracks, nothing to recover.
        if (!selfOf(roomState) || (error instanceof MediaApiError && error.status === 403)) return;
        console.warn('Meetkit: media negotiation failed', error);
        report(
          'connection-failed',
          error instanceof MediaApiError ? error.message : 'Video connection problem: trying to recover',
        );
        if (session && !session.closed) scheduleRecovery();
      }
    });
    queue = run;
    return run;
  };

  async function withRetry<T>(request: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        const delay = retryDelays[attempt];
        if (!(error instanceof MediaApiError) || !error.retryable || delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  const publishLocal = () => {
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

  /** Tells the room what we send: on/off state and the refs others pull. */
  const announce = () => {
    if (!selfOf(roomState)) return;
    const refs = session && !session.closed ? session.published : {};
    room.update({
      microphone: !!tracks.microphone,
      camera: !!tracks.camera,
      tracks: Object.fromEntries(SLOTS.flatMap((slot) => (refs[slot] ? [[slot, refs[slot]]] : []))),
    });
  };

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

  /** Sends the local track of each kind: into its transceiver, or by publishing a new one. */
  async function sendTracks(kinds: MediaKind[]): Promise<void> {
    const s = session;
    if (!s || s.closed) return;
    const added: { kind: MediaKind; transceiver: RTCRtpTransceiver }[] = [];
    for (const kind of kinds) {
      const track = tracks[kind] ?? null;
      const sender = s.senders[kind];
      if (sender) {
        await sender.sender.replaceTrack(track);
      } else if (track) {
        const transceiver = s.pc.addTransceiver(track, { direction: 'sendonly' });
        s.senders[kind] = transceiver;
        added.push({ kind, transceiver });
      }
    }
    if (added.length === 0) return;
    await s.pc.setLocalDescription(await s.pc.createOffer());
    const offer = s.pc.localDescription!;
    const response = await withRetry(() =>
      api.publish({
        sessionId: s.id,
        offer: { type: 'offer', sdp: offer.sdp },
        tracks: added.map(({ kind, transceiver }) => ({ mid: transceiver.mid!, trackName: kind })),
      }),
    );
    await s.pc.setRemoteDescription(response.answer);
    for (const { mid, trackName } of response.tracks) {
      const kind = added.find((a) => a.transceiver.mid === mid)?.kind;
      if (kind) s.published[kind] = `${s.id}/${trackName}`;
    }
    announce();
  }

  /** Stops publishing a kind for good (a screen share that ended). */
  async function unpublish(kind: MediaKind): Promise<void> {
    const s = session;
    const transceiver = s?.senders[kind];
    if (!s || s.closed || !transceiver) return;
    delete s.senders[kind];
    delete s.published[kind];
    announce();
    await closeTransceivers(s, [transceiver]);
  }

  /** Stops transceivers and closes their tracks on the SFU, with an offer that says so. */
  async function closeTransceivers(s: MediaSession, transceivers: RTCRtpTransceiver[]): Promise<void> {
    const mids = transceivers.map((t) => t.mid!);
    for (const transceiver of transceivers) transceiver.stop();
    await s.pc.setLocalDescription(await s.pc.createOffer());
    const offer = s.pc.localDescription!;
    const { answer } = await withRetry(() =>
      api.close({ sessionId: s.id, mids, offer: { type: 'offer', sdp: offer.sdp } }),
    );
    if (answer) await s.pc.setRemoteDescription(answer);
  }

  /** Pulls what others publish and drops what they stopped publishing. */
  async function syncSubscriptions(): Promise<void> {
    syncQueued = false;
    const s = session;
    if (!s || s.closed || selfOf(roomState)?.id !== s.selfId) return;
    const wanted = new Map<string, { participantId: string; slot: MediaKind }>();
    for (const p of roomState.participants) {
      if (p.id === s.selfId) continue;
      for (const slot of SLOTS) {
        const ref = p.tracks[slot];
        if (ref) wanted.set(ref, { participantId: p.id, slot });
      }
    }

    const gone = [...s.pulled.values()].filter((t) => !wanted.has(t.ref));
    for (const ref of s.missing.keys()) if (!wanted.has(ref)) s.missing.delete(ref);
    if (gone.length > 0) await dropPulled(s, gone);

    const now = Date.now();
    const toPull = [...wanted].filter(([ref]) => {
      if (s.pulled.has(ref)) return false;
      const missing = s.missing.get(ref);
      return !missing || missing.retryAt <= now;
    });
    if (toPull.length > 0) await pull(s, toPull);
    scheduleMissingRetry(s);
  }

  async function pull(s: MediaSession, wanted: [string, { participantId: string; slot: MediaKind }][]) {
    const response = await withRetry(() => api.pull({ sessionId: s.id, tracks: wanted.map(([ref]) => ref) }));
    for (const item of response.tracks) {
      const want = wanted.find(([ref]) => ref === item.ref)?.[1];
      if (!want) continue;
      if (item.mid) {
        s.pulled.set(item.ref, { ref: item.ref, mid: item.mid, ...want, track: null });
        s.missing.delete(item.ref);
      } else {
        // Announced but not flowing yet, or the room moved on: ask again shortly, a few times.
        const tries = (s.missing.get(item.ref)?.tries ?? 0) + 1;
        if (tries <= MISSING_MAX_TRIES)
          s.missing.set(item.ref, { ...want, tries, retryAt: Date.now() + MISSING_RETRY_MS });
      }
    }
    if (!response.offer) return;
    await s.pc.setRemoteDescription(response.offer);
    await s.pc.setLocalDescription(await s.pc.createAnswer());
    const answer = s.pc.localDescription!;
    await withRetry(() => api.renegotiate({ sessionId: s.id, answer: { type: 'answer', sdp: answer.sdp } }));
    // Tracks whose transceiver came with this offer are known now.
    for (const transceiver of s.pc.getTransceivers()) attachReceived(s, transceiver);
  }

  async function dropPulled(s: MediaSession, gone: PulledTrack[]): Promise<void> {
    for (const t of gone) s.pulled.delete(t.ref);
    rebuildRemote();
    const mids = new Set(gone.map((t) => t.mid));
    await closeTransceivers(
      s,
      s.pc.getTransceivers().filter((t) => t.mid !== null && mids.has(t.mid)),
    );
  }

  function attachReceived(s: MediaSession, transceiver: RTCRtpTransceiver): void {
    const pulled = [...s.pulled.values()].find((t) => t.mid === transceiver.mid);
    if (!pulled || pulled.track === transceiver.receiver.track) return;
    pulled.track = transceiver.receiver.track;
    rebuildRemote();
  }

  /** Remote media by participant; a stream object changes only when its tracks do. */
  function rebuildRemote(): void {
    const before = remote.value;
    const next = new Map<string, RemoteMedia>();
    const byParticipant = new Map<string, PulledTrack[]>();
    for (const t of session?.pulled.values() ?? []) {
      if (!t.track) continue;
      byParticipant.set(t.participantId, [...(byParticipant.get(t.participantId) ?? []), t]);
    }
    for (const [id, pulled] of byParticipant) {
      const old = before.get(id);
      const cameraTracks = pulled.filter((t) => t.slot !== 'screen').map((t) => t.track!);
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
  }

  function scheduleSync(): void {
    if (syncQueued || !session) return;
    syncQueued = true;
    void enqueue(syncSubscriptions);
  }

  function scheduleMissingRetry(s: MediaSession): void {
    clearTimeout(missingTimer);
    const next = Math.min(...[...s.missing.values()].map((m) => m.retryAt));
    if (Number.isFinite(next)) missingTimer = setTimeout(scheduleSync, Math.max(0, next - Date.now()));
  }

  async function startSession(selfId: string): Promise<void> {
    await stopSession();
    const { sessionId, iceServers } = await withRetry(() => api.session());
    const pc = new RTCPeerConnection({ iceServers });
    const s: MediaSession = {
      selfId,
      id: sessionId,
      pc,
      senders: {},
      published: {},
      pulled: new Map(),
      missing: new Map(),
      closed: false,
    };
    session = s;
    pc.addEventListener('track', (event) => attachReceived(s, event.transceiver));
    pc.addEventListener('connectionstatechange', () => {
      if (s.closed) return;
      clearTimeout(disconnectedTimer);
      if (pc.connectionState === 'failed') scheduleRecovery();
      if (pc.connectionState === 'disconnected')
        disconnectedTimer = setTimeout(
          () => pc.connectionState === 'disconnected' && scheduleRecovery(),
          DISCONNECTED_GRACE_MS,
        );
    });
    await sendTracks(SLOTS.filter((kind) => tracks[kind]));
    announce();
    await syncSubscriptions();
  }

  /** Closes our tracks on the SFU and the peer connection: nothing is left behind. */
  async function stopSession(): Promise<void> {
    const s = session;
    if (!s) return;
    session = null;
    s.closed = true;
    clearTimeout(missingTimer);
    clearTimeout(disconnectedTimer);
    const mids = s.pc
      .getTransceivers()
      .filter((t) => t.mid !== null && t.currentDirection !== 'stopped')
      .map((t) => t.mid!);
    s.pc.close();
    remote.next(new Map());
    // After leaving, the room has closed our tracks already (and would refuse us).
    if (mids.length > 0 && selfOf(roomState)?.id === s.selfId) {
      await api.close({ sessionId: s.id, mids }).catch(() => {
        // The room closes a departed participant's tracks too; this is the polite path.
      });
    }
  }

  /** ICE failed or stayed down: a new session, republishing what is on and pulling again. */
  function scheduleRecovery(): void {
    const s = session;
    if (!s || s.closed) return;
    void enqueue(async () => {
      if (session !== s) return;
      await startSession(s.selfId);
    });
  }

  async function setDevice(kind: DeviceKind, on: boolean): Promise<void> {
    if (on === !!tracks[kind]) return;
    if (on) {
      const track = await open(kind);
      if (!track || closed) return track?.stop();
      tracks[kind] = track;
    } else {
      tracks[kind]?.stop();
      delete tracks[kind];
    }
    publishLocal();
    announce();
    clearTimeout(idleTimers[kind]);
    // Off: the sender keeps its place (turning back on soon needs no renegotiation), for a while.
    if (!on) idleTimers[kind] = setTimeout(() => void enqueue(() => unpublishIdle(kind)), idleUnpublishMs);
    if (session) await enqueue(() => sendTracks([kind]));
  }

  async function unpublishIdle(kind: DeviceKind): Promise<void> {
    if (!tracks[kind]) await unpublish(kind);
  }

  async function setScreenShare(on: boolean): Promise<void> {
    if (on === !!tracks.screen) return;
    if (!on) {
      tracks.screen?.stop();
      delete tracks.screen;
      publishLocal();
      return enqueue(() => unpublish('screen'));
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
    publishLocal();
    if (session) await enqueue(() => sendTracks(['screen']));
  }

  let roomState: RoomState = emptyRoomState;
  subscriptions.push(
    room.state$.subscribe((state) => {
      roomState = state;
      scheduleSync();
    }),
    room.state$
      .pipe(
        map((state) => selfOf(state)?.id ?? null),
        distinctUntilChanged(),
      )
      .subscribe((selfId) => {
        // Joined (or joined again after a reconnect, with a new id): a fresh session.
        if (selfId) void enqueue(() => startSession(selfId));
        else void enqueue(leaveCall);
      }),
    room.events$.subscribe((event) => {
      if (event.type === 'participant-muted' && event.self) void setDevice('microphone', false);
    }),
  );

  /** Left the meeting: the session closes and the devices are released. */
  async function leaveCall(): Promise<void> {
    for (const timer of Object.values(idleTimers)) clearTimeout(timer);
    await stopSession();
    for (const kind of SLOTS) {
      tracks[kind]?.stop();
      delete tracks[kind];
    }
    publishLocal();
  }

  return {
    local$: local.asObservable(),
    remote$: remote.asObservable(),
    errors$: errors.asObservable(),
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
      publishLocal();
      // replaceTrack: no renegotiation, the others keep their subscription.
      await session?.senders[kind]?.sender.replaceTrack(track);
    },
    close() {
      if (closed) return;
      void enqueue(leaveCall).then(() => {
        closed = true;
        local.complete();
        remote.complete();
        errors.complete();
      });
      for (const subscription of subscriptions) subscription.unsubscribe();
    },
  };
}

function sameTracks(stream: MediaStream | null | undefined, tracks: readonly MediaStreamTrack[]): boolean {
  if (!stream) return tracks.length === 0;
  const current = stream.getTracks();
  return current.length === tracks.length && tracks.every((t) => current.includes(t));
}
