/**
 * One meeting, headless: the room connection, the devices, the media API
 * and the call, wired together, with the state a visitor goes through
 * (lobby → joining → joined ⇄ reconnecting → left) as observables and the
 * actions as methods. `<meet-room>` renders it; any other UI (React, Vue,
 * plain script) can too:
 *
 *   const meeting = createMeeting({ server: 'https://meet.example.com', room: 'standup' });
 *   meeting.participants$.subscribe(render);
 *   await meeting.setCamera(true);
 *   meeting.join('Ann');
 *
 * Resuming lives here too: when the connection drops, the room keeps this
 * participant's place, the room client comes back as the same participant,
 * and the call keeps (or rebuilds) its media and announces it again.
 */
import {
  BehaviorSubject,
  combineLatest,
  defer,
  distinctUntilChanged,
  map,
  merge,
  of,
  scan,
  shareReplay,
  skip,
  startWith,
  switchMap,
  Subject,
  type Observable,
  type Subscription,
} from 'rxjs';
import type { LeaveReason, ModerationAction, Participant, ParticipantState } from '../protocol/index.js';
import type { Diagnostics, FeedbackRequest } from '../protocol/feedback.js';
import { createAiControl, type MeetingAi } from './ai-control.js';
import {
  createCallClient,
  type CallClientOptions,
  type MediaConnection,
  type PublishedTracks,
  type VideoSize,
} from './call-client.js';
import type { CallError, LocalMedia, RemoteMedia } from './call-types.js';
import type { RecentError } from './diagnostics.js';
import { createDevices, type Devices } from './devices.js';
import { createMediaApi } from './media-api.js';
import {
  createRoomClient,
  type ConnectionStatus,
  type ParticipantChanges,
  type RoomError,
} from './room-client.js';
import type { CameraCaps, ReceiveSettings } from './media/layers.js';
import {
  defaultSettingsStorage,
  loadReceiveSettings,
  saveReceiveSettings,
  type SettingsStorage,
} from './receive-settings.js';
import { selfOf, type RoomState } from './room-state.js';
import type { Quality } from './quality.js';

/**
 * Errors kept for a problem report: as many as it carries (`DIAGNOSTIC_ERRORS_MAX`,
 * not imported: its module's schemas would come into the lobby with it).
 */
const RECENT_ERRORS_KEPT = 20;

export type MeetingPhase = 'lobby' | 'joining' | 'joined' | 'reconnecting' | 'left';

/** What happens in a meeting, as a person would say it. */
export type MeetingEvent =
  | { type: 'joined'; participant: Participant }
  /**
   * This visitor is out of the meeting; `by` is the host who removed them
   * (`removed`; null when the room said so on reconnecting) or ended it.
   */
  | { type: 'left'; reason: LeaveReason; by: Participant | null }
  | { type: 'participant-joined'; participant: Participant }
  /** Someone else left; `by` is the host who removed them. */
  | { type: 'participant-left'; participant: Participant; reason: LeaveReason; by: Participant | null }
  /** Someone else changed (or a host changed them, or the room says they are reconnecting). */
  | { type: 'participant-updated'; participant: Participant; changes: ParticipantChanges }
  /**
   * A host acted on this participant: muted them, turned their camera off
   * (both done here too), lowered their hand or made them host.
   */
  | { type: 'moderated'; action: ModerationAction; by: Participant | null }
  /** A host ended the meeting for everyone (`by`), or the last participant left (`null`). */
  | { type: 'meeting-ended'; by: Participant | null };

/** A room problem (`fatal`: the connection is over), or a device or media one (never fatal). */
export type MeetingError = RoomError | (CallError & { fatal: false });

export interface MeetingOptions {
  /** Origin of the Meetkit server, e.g. `https://meet.example.com`. */
  server: string;
  room: string;
  /** Join token, when the server requires one. */
  token?: string | undefined;
  /** Shared device manager; by default the meeting makes (and closes) its own. */
  devices?: Devices;
  /** A WebSocket implementation, for Node (the `ws` package). */
  WebSocket?: unknown;
  /** Media timings, for tests. */
  media?: Pick<CallClientOptions, 'idleUnpublishMs' | 'timing' | 'backoff' | 'getDisplayMedia'>;
  /** See `RoomClientOptions.silenceTimeoutMs`. */
  silenceTimeoutMs?: number;
  /** Limits on the camera this visitor sends: `maxBitrate` (bits/s), `maxFramerate`. */
  camera?: CameraCaps;
  /** Where data saver and audio-only are remembered; `localStorage` by default, null to not remember. */
  storage?: SettingsStorage | null;
  /**
   * False: never listen to a muted microphone, so `mutedSpeech$` stays false
   * (see `muted-speech.ts` for when it listens). Default true.
   */
  listenWhileMuted?: boolean;
}

export interface Meeting {
  readonly phase$: Observable<MeetingPhase>;
  readonly connection$: Observable<ConnectionStatus>;
  /** The whole room as this visitor knows it. */
  readonly state$: Observable<RoomState>;
  /** This participant while in the meeting; null otherwise. */
  readonly self$: Observable<Participant | null>;
  /** Everyone in the meeting, in join order (reconnecting ones included, marked). */
  readonly participants$: Observable<readonly Participant[]>;
  /** People in the lobby, not in the meeting. */
  readonly lobbyCount$: Observable<number>;
  /** What this visitor sends: on/off and the streams for a self view. */
  readonly local$: Observable<LocalMedia>;
  /** What arrives from the others, by participant id. */
  readonly remote$: Observable<ReadonlyMap<string, RemoteMedia>>;
  /**
   * Who is speaking now (participant ids, you included, the AI too), in the
   * order they started; worked out here from the audio, never sent. Received
   * audio counts while it plays (in an `<audio>` element, as the tiles do).
   */
  readonly speaking$: Observable<readonly string[]>;
  /**
   * Data saver (receive only the lowest video layer, send no full one) and
   * audio-only (receive no video at all), remembered for the next meeting.
   */
  readonly receiveSettings$: Observable<ReceiveSettings>;
  /**
   * True while this visitor talks with the microphone off, for a "You are
   * muted" hint. Heard in this page only, never sent: after the microphone
   * was on in this meeting, and where the browser grants it (see
   * `muted-speech.ts`).
   */
  readonly mutedSpeech$: Observable<boolean>;
  /**
   * How well each participant's media gets through (participant id →
   * `good`, `fair`, `poor` or `lost`; you included): others' from what
   * arrives of them here, yours from what the SFU reports of what you send.
   * Measured twice a second while in the meeting, smoothed over a few
   * seconds (see `quality.ts`); someone not measured yet is not in it.
   */
  readonly quality$: Observable<ReadonlyMap<string, Quality>>;
  /**
   * This visitor's media connection: `none`, `connecting`, `connected`, or
   * `reconnecting` (ICE disconnected or failed, or nothing arriving while
   * something should, within about 1.5 s), which recovers by itself.
   */
  readonly mediaConnection$: Observable<MediaConnection>;
  /** Whose camera this visitor pinned (null: none); a pin of someone who left goes away. */
  readonly pinned$: Observable<string | null>;
  readonly events$: Observable<MeetingEvent>;
  readonly errors$: Observable<MeetingError>;
  /** The room's AI agent: whether there is one, what it does, who talks to it, what it says. */
  readonly ai$: Observable<MeetingAi>;
  /** False where the browser cannot share a screen (most phones). */
  readonly screenShareSupported: boolean;
  readonly devices: Devices;
  /** The current Calls session, for diagnostics. */
  readonly mediaSessionId: string | null;
  /** The meeting this visitor is in, or was in last (what a rating is for); null before joining one. */
  readonly meetingId: string | null;
  /**
   * This visitor's diagnostics once a second while subscribed (the debug
   * overlay, a problem report): browser, meeting and Calls session ids, the
   * room and media connections, the last 20 errors since the meeting was
   * created, and per track its mid, whose it is, size, bitrate, loss and
   * round trip (rates from the second value on). Valid under
   * `feedback.diagnostics`; nothing is read while nobody watches.
   */
  readonly diagnostics$: Observable<Diagnostics>;
  /**
   * Sends a rating of a meeting this visitor was in (works after leaving
   * too: the room connection stays open in the lobby), or a problem report
   * with the diagnostics the visitor saw. Resolves with the feedback's id;
   * rejects with a `FeedbackError` (`already-rated`, `too-large`,
   * `feedback-rate-limited` with `retryAfterMs`, …).
   */
  sendFeedback(request: FeedbackRequest): Promise<string>;
  /** Enters the meeting with what is on in the lobby. False if the name is invalid. */
  join(name: string): boolean;
  /** Leaves the meeting; the visitor is back in the lobby (phase `left`) and may join again. */
  leave(): void;
  setMicrophone(on: boolean): Promise<void>;
  setCamera(on: boolean): Promise<void>;
  setScreenShare(on: boolean): Promise<void>;
  raiseHand(raised?: boolean): void;
  /** Host only (the server checks): turns someone else's microphone off; their page says who did. */
  muteParticipant(id: string): void;
  /** Host only: turns someone else's camera off; their page says who did. */
  turnCameraOff(id: string): void;
  /** Host only: lowers someone else's raised hand. */
  lowerHand(id: string): void;
  /**
   * Host only: takes someone out of the meeting. Their page says who did and
   * does not come back by itself; with join tokens, theirs cannot join again.
   */
  removeParticipant(id: string): void;
  /** Host only: makes someone else a host too. */
  makeHost(id: string): void;
  /** Host only (the server checks). */
  endMeeting(): void;
  /** Brings the AI into the meeting (hosts, or anyone: the server's `AI_POLICY` decides). */
  inviteAi(): void;
  /** Sends the AI away (same rule as inviting). */
  removeAi(): void;
  /**
   * Push-to-talk: `true` holds it (turning the microphone on if needed; one
   * holder at a time, `ai-busy` otherwise), `false` lets go and the AI answers.
   */
  talkToAi(on: boolean): Promise<void>;
  /** Receives only the lowest video layer and sends no full one; remembered (see `receiveSettings$`). */
  setDataSaver(on: boolean): void;
  /** Receives no video at all (sound goes on); remembered. Off again brings the video back. */
  setAudioOnly(on: boolean): void;
  /** Pins someone's camera for this visitor only: first on the stage, large. */
  pin(participantId: string): void;
  unpin(): void;
  /**
   * Receive only these videos (`'<id> camera'`, `'<id> screen'`: what is on
   * screen); microphones always. Null receives every video (the default).
   * With their sizes (CSS pixels), each camera comes in the simulcast layer
   * that fits.
   */
  showVideo(keys: ReadonlySet<string> | ReadonlyMap<string, VideoSize> | null): void;
  /** Drops the connection and resumes at once (a "retry" button). */
  reconnect(): void;
  /** Resolves when no media work is queued or running (tests, benchmarks). */
  settled(): Promise<void>;
  /** Leaves if in the meeting and stops everything; no request is left behind. */
  close(): void;
}

export function createMeeting(options: MeetingOptions): Meeting {
  const devices = options.devices ?? createDevices();
  const ownDevices = !options.devices;
  const room = createRoomClient({
    server: options.server,
    room: options.room,
    token: options.token,
    WebSocket: options.WebSocket,
    ...(options.silenceTimeoutMs ? { silenceTimeoutMs: options.silenceTimeoutMs } : {}),
  });
  let roomState: RoomState | null = null;
  /** The meeting this visitor is in, or was in last. */
  let meetingId: string | null = null;
  const credentials = () =>
    roomState?.selfId && roomState.mediaKey
      ? { participantId: roomState.selfId, key: roomState.mediaKey }
      : null;
  const api = createMediaApi(options.server, options.room, credentials);
  const storage = options.storage === undefined ? defaultSettingsStorage() : options.storage;
  const receiveSettings = new BehaviorSubject<ReceiveSettings>(loadReceiveSettings(storage));
  const setReceive = (change: Partial<ReceiveSettings>) => {
    const next = { ...receiveSettings.value, ...change };
    if (
      next.dataSaver === receiveSettings.value.dataSaver &&
      next.audioOnly === receiveSettings.value.audioOnly
    )
      return;
    receiveSettings.next(next);
    saveReceiveSettings(storage, next);
    call.setReceiveSettings(next);
  };
  const call = createCallClient({
    ...options.media,
    ...(options.camera ? { camera: options.camera } : {}),
    receive: receiveSettings.value,
    api,
    getStream: (request) => devices.getStream(request),
  });
  const ai = createAiControl(room, (on) => call.setMicrophone(on));

  /** What the visitor asked for last: to be in the meeting or not. */
  const wantsIn = new BehaviorSubject(false);
  const ended = new BehaviorSubject(false);
  const pin = new BehaviorSubject<string | null>(null);
  const pinned$ = combineLatest([pin, room.participants$]).pipe(
    map(([id, people]) => (id && people.some((p) => p.id === id) ? id : null)),
    distinctUntilChanged(),
  );
  const events = new Subject<MeetingEvent>();
  const subscriptions: Subscription[] = [];

  const phase$ = combineLatest([room.connection$, room.self$, wantsIn, ended]).pipe(
    map(([connection, self, wanted, over]): MeetingPhase => {
      if (self) return connection === 'open' ? 'joined' : 'reconnecting';
      if (wanted && !over) return connection === 'open' ? 'joining' : 'reconnecting';
      return over ? 'left' : 'lobby';
    }),
    distinctUntilChanged(),
  );

  // The call follows the room: who is in it, whether we are, whether requests can be made.
  subscriptions.push(
    combineLatest([room.state$, room.connection$]).subscribe(([state, connection]) => {
      roomState = state;
      if (state.meeting && selfOf(state)) meetingId = state.meeting.id;
      call.follow({
        selfId: selfOf(state)?.id ?? null,
        connectionId: state.selfId,
        participants: state.participants,
        connected: connection === 'open' && state.mediaKey !== null,
      });
    }),
  );

  // One path for what the room hears about our media: what is on, and what is published.
  let localMedia: LocalMedia = call.snapshot;
  let publishedTracks: PublishedTracks = {};
  let announceQueued = false;
  const announce = () => {
    if (announceQueued) return;
    announceQueued = true;
    // After the current message is handled: a host's mute turns the microphone off first.
    queueMicrotask(() => {
      announceQueued = false;
      const self = roomState && selfOf(roomState);
      if (!self) return;
      const changes: Partial<ParticipantState> = {};
      if (self.microphone !== localMedia.microphone) changes.microphone = localMedia.microphone;
      if (self.camera !== localMedia.camera) changes.camera = localMedia.camera;
      if (JSON.stringify(self.tracks) !== JSON.stringify(publishedTracks)) changes.tracks = publishedTracks;
      if (Object.keys(changes).length > 0) room.update(changes);
    });
  };
  subscriptions.push(
    call.local$.subscribe((media) => {
      localMedia = media;
      announce();
    }),
    call.published$.subscribe((tracks) => {
      publishedTracks = tracks;
      announce();
    }),
    room.self$.subscribe(announce),
  );

  subscriptions.push(
    room.events$.subscribe((event) => {
      switch (event.type) {
        case 'participant-joined':
          if (event.self) ended.next(false);
          return events.next(
            event.self
              ? { type: 'joined', participant: event.participant }
              : { type: 'participant-joined', participant: event.participant },
          );
        case 'participant-left':
          if (event.self) {
            wantsIn.next(false);
            ended.next(true);
          }
          return events.next(
            event.self
              ? { type: 'left', reason: event.reason, by: event.by }
              : {
                  type: 'participant-left',
                  participant: event.participant,
                  reason: event.reason,
                  by: event.by,
                },
          );
        case 'participant-updated':
          if (!event.self)
            events.next({
              type: 'participant-updated',
              participant: event.participant,
              changes: event.changes,
            });
          return;
        case 'participant-moderated':
          if (!event.self) return;
          // Now, before this message's state is announced back to the room.
          if (event.action === 'mute') void call.setMicrophone(false);
          if (event.action === 'camera-off') void call.setCamera(false);
          return events.next({ type: 'moderated', action: event.action, by: event.by });
        case 'meeting-ended':
          if (event.by) {
            wantsIn.next(false);
            ended.next(true);
          }
          return events.next({ type: 'meeting-ended', by: event.by });
      }
    }),
  );

  // A device chosen in the picker replaces the track being sent (no renegotiation).
  subscriptions.push(
    devices
      .selected$('audioinput')
      .pipe(skip(1))
      .subscribe(() => void call.switchDevice('microphone')),
    devices
      .selected$('videoinput')
      .pipe(skip(1))
      .subscribe(() => void call.switchDevice('camera')),
  );

  const inMeeting$ = phase$.pipe(
    map((phase) => phase === 'joined' || phase === 'reconnecting'),
    distinctUntilChanged(),
  );
  // Sampled only while in the meeting, once for every subscriber (speaking.ts is loaded then).
  const speaking$ = inMeeting$.pipe(
    switchMap((inMeeting) =>
      inMeeting
        ? defer(() => import('./speaking.js')).pipe(
            switchMap(({ speakingFrom }) => speakingFrom(() => call.audioLevels())),
          )
        : of([]),
    ),
    shareReplay({ bufferSize: 1, refCount: true }),
  );
  // Whether the microphone was on in this stay in the meeting (the muted hint listens only then), from the start.
  const microphoneUsed = new BehaviorSubject(false);
  subscriptions.push(
    combineLatest([inMeeting$, call.local$])
      .pipe(scan((used, [inMeeting, media]) => inMeeting && (used || media.microphone), false))
      .subscribe((used) => used !== microphoneUsed.value && microphoneUsed.next(used)),
  );
  // Listens only when muted in the meeting, once for every subscriber. Loaded apart: the lobby does without.
  const mutedSpeech$ =
    options.listenWhileMuted === false
      ? of(false)
      : defer(() => import('./muted-speech.js')).pipe(
          switchMap(({ mutedSpeech }) =>
            mutedSpeech({
              inMeeting$,
              microphone$: call.local$.pipe(map((media) => media.microphone)),
              usedInMeeting$: microphoneUsed,
              permission$: devices.permission$('microphone'),
              device$: devices.selected$('audioinput'),
              open: () => devices.getStream({ audio: true, video: false }),
            }),
          ),
          startWith(false),
          distinctUntilChanged(),
          shareReplay({ bufferSize: 1, refCount: true }),
        );

  // Scored only while in the meeting (quality.ts is loaded then: the lobby does without it).
  const noQuality: ReadonlyMap<string, Quality> = new Map();
  const quality$ = inMeeting$.pipe(
    switchMap((inMeeting) =>
      inMeeting
        ? defer(() => import('./quality.js')).pipe(
            switchMap(({ qualityLevels }) => qualityLevels(call.qualityReadings$)),
            startWith(noQuality),
          )
        : of(noQuality),
    ),
    shareReplay({ bufferSize: 1, refCount: true }),
  );

  const errors$: Observable<MeetingError> = merge(
    room.errors$,
    call.errors$.pipe(map((error) => ({ ...error, fatal: false as const }))),
  );
  // Kept from the start for problem reports: what went wrong before anyone asked.
  const recentErrors: RecentError[] = [];
  subscriptions.push(
    errors$.subscribe(
      ({ code, message }) =>
        recentErrors.push({ at: Date.now(), code, message }) > RECENT_ERRORS_KEPT && recentErrors.shift(),
    ),
  );

  const feedback = () => import('./feedback.js');

  const meeting: Meeting = {
    phase$,
    connection$: room.connection$,
    state$: room.state$,
    self$: room.self$,
    participants$: room.participants$,
    lobbyCount$: room.lobbyCount$,
    local$: call.local$,
    remote$: call.remote$,
    speaking$,
    // setReceive emits only changes.
    receiveSettings$: receiveSettings.asObservable(),
    mutedSpeech$,
    quality$,
    mediaConnection$: call.mediaConnection$,
    pinned$,
    events$: events.asObservable(),
    errors$,
    ai$: ai.ai$,
    screenShareSupported: call.screenShareSupported,
    devices,
    get mediaSessionId() {
      return call.sessionId;
    },
    get meetingId() {
      return meetingId;
    },
    // Loaded when first asked: the lobby does without both.
    diagnostics$: defer(feedback).pipe(
      switchMap(({ watchDiagnostics }) => watchDiagnostics(meeting, recentErrors, call)),
      shareReplay({ bufferSize: 1, refCount: true }),
    ),
    sendFeedback: async (request) =>
      (await feedback()).sendFeedback(options.server, options.room, credentials(), request),
    join(name) {
      const media = call.snapshot;
      // What the lobby already publishes is announced with the join: the others pull it at once.
      const started = room.join(name, {
        microphone: media.microphone,
        camera: media.camera,
        tracks: publishedTracks,
      });
      if (started) {
        ended.next(false);
        wantsIn.next(true);
      }
      return started;
    },
    leave() {
      wantsIn.next(false);
      room.leave();
    },
    setMicrophone: (on) => call.setMicrophone(on),
    setCamera: (on) => call.setCamera(on),
    setScreenShare: (on) => call.setScreenShare(on),
    raiseHand: (raised = true) => room.update({ handRaised: raised }),
    muteParticipant: (id) => room.muteParticipant(id),
    turnCameraOff: (id) => room.turnCameraOff(id),
    lowerHand: (id) => room.lowerHand(id),
    removeParticipant: (id) => room.removeParticipant(id),
    makeHost: (id) => room.makeHost(id),
    endMeeting: () => room.endMeeting(),
    inviteAi: () => ai.invite(),
    removeAi: () => ai.remove(),
    talkToAi: (on) => ai.talk(on),
    setDataSaver: (on) => setReceive({ dataSaver: on }),
    setAudioOnly: (on) => setReceive({ audioOnly: on }),
    pin: (id) => pin.next(id),
    unpin: () => pin.next(null),
    showVideo: (keys) => call.showVideo(keys),
    reconnect: () => room.reconnect(),
    settled: () => call.settled(),
    close() {
      for (const subscription of subscriptions) subscription.unsubscribe();
      ai.close();
      // Media first, without a request: leaving tells the room, which closes our tracks on Calls.
      call.close();
      room.close();
      if (ownDevices) devices.close();
      wantsIn.complete();
      ended.complete();
      pin.complete();
      receiveSettings.complete();
      microphoneUsed.complete();
      events.complete();
    },
  };
  return meeting;
}
