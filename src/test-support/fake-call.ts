/**
 * Stand-ins for the room and call clients, for element tests: state lives in
 * BehaviorSubjects the test can push, actions are recorded, and media comes
 * from Chromium's fake devices (`--use-fake-device-for-media-stream`) and a
 * canvas, so videos really play.
 */
import { ContextProvider } from '@lit/context';
import { fixture, html } from '@open-wc/testing';
import { render, type TemplateResult } from 'lit';
import { BehaviorSubject, combineLatestWith, EMPTY, map, merge, of, Subject, type Observable } from 'rxjs';
import { createAiControl } from '../client/ai-control.js';
import type { CallClient, CallError, LocalMedia, MediaKind, RemoteMedia } from '../client/call-types.js';
import type { MediaConnection } from '../client/call-client.js';
import type { Devices } from '../client/devices.js';
import type { Meeting } from '../client/meeting.js';
import type { VideoSize } from '../client/call-client.js';
import type { Quality } from '../client/quality.js';
import type { RoomClient, RoomError, RoomEvent } from '../client/room-client.js';
import { emptyRoomState, roomViews, type RoomState } from '../client/room-state.js';
import { meetingContext } from '../elements/meeting-context.js';
import type { ClientMessageOf, Participant, ParticipantState } from '../protocol/index.js';

/** Every track the helpers below made, so `stopFakeMedia` can release the devices. */
const liveTracks = new Set<MediaStreamTrack>();
const screenTimers = new Map<MediaStreamTrack, ReturnType<typeof setInterval>>();

/** A stream from the fake camera and/or microphone. */
export async function fakeDeviceStream({ audio = true, video = true } = {}): Promise<MediaStream> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio,
    video: video ? { width: 320, height: 180 } : false,
  });
  for (const track of stream.getTracks()) liveTracks.add(track);
  return stream;
}

/** A 16:9 "screen" drawn on a canvas, repainted so it keeps producing frames. */
export function fakeScreenStream(): MediaStream {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  const context = canvas.getContext('2d')!;
  let frame = 0;
  const paint = () => {
    context.fillStyle = '#1e3a8a';
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = '#ffffff';
    context.font = '32px sans-serif';
    context.fillText(`Shared screen ${++frame}`, 40, 80);
  };
  paint();
  const stream = canvas.captureStream(10);
  const [track] = stream.getVideoTracks();
  if (track) {
    liveTracks.add(track);
    screenTimers.set(track, setInterval(paint, 100));
  }
  return stream;
}

/** Stops one track made here (the device is released, `readyState` becomes `ended`). */
export function stopFakeTrack(track: MediaStreamTrack): void {
  track.stop();
  liveTracks.delete(track);
  clearInterval(screenTimers.get(track));
  screenTimers.delete(track);
}

/** Stops every track made here; call it in `afterEach`. */
export function stopFakeMedia(): void {
  for (const track of [...liveTracks]) stopFakeTrack(track);
}

export interface FakeCallOptions {
  screenShareSupported?: boolean;
  remote?: ReadonlyMap<string, RemoteMedia>;
}

export interface FakeCall extends CallClient {
  /** Every `setMicrophone` / `setCamera` / `setScreenShare` call, in order. */
  readonly calls: readonly { kind: MediaKind; on: boolean }[];
  /** What this participant sends now. */
  readonly local: LocalMedia;
  /** Replaces the media arriving from the others. */
  setRemote(remote: ReadonlyMap<string, RemoteMedia>): void;
  /** Reports a device problem on `errors$`. */
  fail(error: CallError): void;
  /** Who the meeting hears speaking (`Meeting.speaking$`). */
  readonly speaking$: Observable<readonly string[]>;
  setSpeaking(ids: readonly string[]): void;
  /** Whether the meeting hears you talk while muted (`Meeting.mutedSpeech$`). */
  readonly mutedSpeech$: Observable<boolean>;
  setMutedSpeech(talking: boolean): void;
  /** How well each participant's media gets through (`Meeting.quality$`). */
  readonly quality$: Observable<ReadonlyMap<string, Quality>>;
  setQuality(levels: ReadonlyMap<string, Quality>): void;
  /** This visitor's media connection (`Meeting.mediaConnection$`). */
  readonly mediaConnection$: Observable<MediaConnection>;
  setMediaConnection(state: MediaConnection): void;
  /** What the meeting was asked to receive (`Meeting.showVideo`), in order. */
  readonly videoShown: readonly (ReadonlySet<string> | ReadonlyMap<string, VideoSize> | null)[];
  showVideo(keys: ReadonlySet<string> | ReadonlyMap<string, VideoSize> | null): void;
}

const noLocalMedia: LocalMedia = {
  microphone: false,
  camera: false,
  screen: false,
  cameraStream: null,
  screenStream: null,
};

/** A call client whose local media comes from the fake devices. */
export function createFakeCall(options: FakeCallOptions = {}): FakeCall {
  const local = new BehaviorSubject<LocalMedia>(noLocalMedia);
  const remote = new BehaviorSubject<ReadonlyMap<string, RemoteMedia>>(options.remote ?? new Map());
  const errors = new Subject<CallError>();
  const speaking = new BehaviorSubject<readonly string[]>([]);
  const mutedSpeech = new BehaviorSubject(false);
  const quality = new BehaviorSubject<ReadonlyMap<string, Quality>>(new Map());
  const mediaConnection = new BehaviorSubject<MediaConnection>('connected');
  const videoShown: (ReadonlySet<string> | ReadonlyMap<string, VideoSize> | null)[] = [];
  const calls: { kind: MediaKind; on: boolean }[] = [];
  let microphone: MediaStreamTrack | null = null;
  let camera: MediaStreamTrack | null = null;

  const publish = (changes: Partial<LocalMedia>) => {
    const next = { ...local.value, ...changes };
    const tracks = [microphone, camera].filter((t): t is MediaStreamTrack => t !== null);
    next.cameraStream = tracks.length > 0 ? new MediaStream(tracks) : null;
    local.next(next);
  };

  const deviceTrack = async (kind: 'audio' | 'video') => {
    const stream = await fakeDeviceStream({ audio: kind === 'audio', video: kind === 'video' });
    return stream.getTracks()[0] ?? null;
  };

  return {
    local$: local.asObservable(),
    remote$: remote.asObservable(),
    errors$: errors.asObservable(),
    screenShareSupported: options.screenShareSupported ?? true,
    calls,
    get local() {
      return local.value;
    },
    async setMicrophone(on) {
      calls.push({ kind: 'microphone', on });
      if (on === local.value.microphone) return;
      if (microphone) stopFakeTrack(microphone);
      microphone = on ? await deviceTrack('audio') : null;
      publish({ microphone: on });
    },
    async setCamera(on) {
      calls.push({ kind: 'camera', on });
      if (on === local.value.camera) return;
      if (camera) stopFakeTrack(camera);
      camera = on ? await deviceTrack('video') : null;
      publish({ camera: on });
    },
    setScreenShare(on) {
      calls.push({ kind: 'screen', on });
      if (on === local.value.screen) return Promise.resolve();
      local.value.screenStream?.getTracks().forEach(stopFakeTrack);
      publish({ screen: on, screenStream: on ? fakeScreenStream() : null });
      return Promise.resolve();
    },
    setRemote: (media) => remote.next(media),
    fail: (error) => errors.next(error),
    speaking$: speaking.asObservable(),
    setSpeaking: (ids) => speaking.next(ids),
    mutedSpeech$: mutedSpeech.asObservable(),
    setMutedSpeech: (talking) => mutedSpeech.next(talking),
    quality$: quality.asObservable(),
    setQuality: (levels) => quality.next(levels),
    mediaConnection$: mediaConnection.asObservable(),
    setMediaConnection: (state) => mediaConnection.next(state),
    videoShown,
    showVideo: (keys) => videoShown.push(keys),
  };
}

/** A participant with everything off, joined at `joinedAt` (default 0). */
export function fakeParticipant(
  fields: Partial<Participant> & Pick<Participant, 'id' | 'name'>,
): Participant {
  return {
    role: 'guest',
    joinedAt: 0,
    microphone: false,
    camera: false,
    handRaised: false,
    tracks: {},
    ...fields,
  };
}

export interface FakeRoom extends RoomClient {
  /** Every `update()` call, in order. */
  readonly updates: readonly Partial<ParticipantState>[];
  /** How many times `leave()` was called. */
  readonly leaves: number;
  readonly state: RoomState;
  setState(changes: Partial<RoomState>): void;
  /** What was asked of the AI, in order. */
  readonly aiRequests: readonly ClientMessageOf<'ai-invite' | 'ai-remove' | 'ai-talk'>[];
  /** Makes the room say something happened (a caption). */
  emit(event: RoomEvent): void;
  /** Makes the room report an error. */
  fail(error: RoomError): void;
}

/**
 * A room client that is already connected. `update()` changes this
 * participant as the server would echo it; `leave()` removes them.
 */
export function createFakeRoom(initial: Partial<RoomState> = {}): FakeRoom {
  const state = new BehaviorSubject<RoomState>({ ...emptyRoomState, ...initial });
  const updates: Partial<ParticipantState>[] = [];
  const aiRequests: ClientMessageOf<'ai-invite' | 'ai-remove' | 'ai-talk'>[] = [];
  const events = new Subject<RoomEvent>();
  const errors = new Subject<RoomError>();
  let leaves = 0;
  const noop = () => {};
  return {
    connection$: new BehaviorSubject('open' as const).asObservable(),
    ...roomViews(state.asObservable()),
    errors$: errors.asObservable(),
    events$: events.asObservable(),
    updates,
    get leaves() {
      return leaves;
    },
    get state() {
      return state.value;
    },
    setState: (changes) => state.next({ ...state.value, ...changes }),
    join: () => false,
    leave() {
      leaves++;
      const { selfId, participants } = state.value;
      state.next({ ...state.value, participants: participants.filter((p) => p.id !== selfId) });
    },
    update(changes) {
      updates.push(changes);
      const { selfId, participants } = state.value;
      state.next({
        ...state.value,
        participants: participants.map((p) => (p.id === selfId ? { ...p, ...changes } : p)),
      });
    },
    muteParticipant: noop,
    turnCameraOff: noop,
    lowerHand: noop,
    removeParticipant: noop,
    makeHost: noop,
    endMeeting: noop,
    sendDirectMessage: noop,
    inviteAi: () => aiRequests.push({ type: 'ai-invite' }),
    removeAi: () => aiRequests.push({ type: 'ai-remove' }),
    talkToAi: (on) => aiRequests.push({ type: 'ai-talk', on }),
    aiRequests,
    emit: (event) => events.next(event),
    fail: (error) => errors.next(error),
    reconnect: noop,
    close: noop,
  };
}

export interface Contexts {
  room?: RoomClient | undefined;
  call?: CallClient | undefined;
}

/** Swaps the room or the call client the provided meeting is made of. */
export interface ContextProviders {
  room: { setValue(room: RoomClient | undefined): void };
  call: { setValue(call: CallClient | undefined): void };
}

/**
 * A meeting made of a (fake) room client and a (fake) call client, as the
 * elements see it: what `createMeeting()` wires for real. None without a room.
 */
export function meetingOf(
  room: RoomClient | undefined,
  call:
    | (CallClient &
        Partial<Pick<FakeCall, 'speaking$' | 'mutedSpeech$' | 'showVideo' | 'quality$' | 'mediaConnection$'>>)
    | undefined,
): Meeting | undefined {
  if (!room) return undefined;
  const silent = () => Promise.resolve();
  const ai = createAiControl(room, (on) => call?.setMicrophone(on) ?? silent());
  const pinned = new BehaviorSubject<string | null>(null);
  const receiveSettings = new BehaviorSubject({ dataSaver: false, audioOnly: false });
  return {
    phase$: room.self$.pipe(map((self) => (self ? 'joined' : 'lobby'))),
    connection$: room.connection$,
    state$: room.state$,
    self$: room.self$,
    participants$: room.participants$,
    lobbyCount$: room.lobbyCount$,
    local$: call?.local$ ?? of(noLocalMedia),
    remote$: call?.remote$ ?? of(new Map<string, RemoteMedia>()),
    speaking$: call?.speaking$ ?? of([]),
    receiveSettings$: receiveSettings.asObservable(),
    setDataSaver: (on) => receiveSettings.next({ ...receiveSettings.value, dataSaver: on }),
    setAudioOnly: (on) => receiveSettings.next({ ...receiveSettings.value, audioOnly: on }),
    mutedSpeech$: call?.mutedSpeech$ ?? of(false),
    quality$: call?.quality$ ?? of(new Map<string, Quality>()),
    mediaConnection$: call?.mediaConnection$ ?? of('none' as const),
    pinned$: pinned.pipe(
      combineLatestWith(room.participants$),
      map(([id, people]) => (id && people.some((p) => p.id === id) ? id : null)),
    ),
    events$: EMPTY,
    errors$: merge(
      room.errors$,
      call ? call.errors$.pipe(map((e) => ({ ...e, fatal: false as const }))) : EMPTY,
    ),
    ai$: ai.ai$,
    screenShareSupported: call?.screenShareSupported ?? false,
    get devices(): Devices {
      throw new Error('The fake meeting has no devices: provide devicesContext');
    },
    mediaSessionId: null,
    meetingId: null,
    diagnostics$: EMPTY,
    sendFeedback: () => Promise.reject(new Error('The fake meeting sends no feedback')),
    join: (name) => room.join(name),
    leave: () => room.leave(),
    setMicrophone: (on) => call?.setMicrophone(on) ?? silent(),
    setCamera: (on) => call?.setCamera(on) ?? silent(),
    setScreenShare: (on) => call?.setScreenShare(on) ?? silent(),
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
    pin: (id) => pinned.next(id),
    unpin: () => pinned.next(null),
    showVideo: (keys) => call?.showVideo?.(keys),
    reconnect: () => room.reconnect(),
    settled: silent,
    close() {
      ai.close();
      room.close();
    },
  };
}

/** Makes `host` provide a meeting made of these room and call clients, as `<meet-room>` provides its own. */
export function provideContexts(host: HTMLElement, contexts: Contexts): ContextProviders {
  let { room, call } = contexts;
  const provider = new ContextProvider(host, {
    context: meetingContext,
    initialValue: meetingOf(room, call),
  });
  return {
    room: {
      setValue(next) {
        room = next;
        provider.setValue(meetingOf(room, call));
      },
    },
    call: {
      setValue(next) {
        call = next;
        provider.setValue(meetingOf(room, call));
      },
    },
  };
}

/**
 * Renders `template` inside a wrapper that provides the contexts, and
 * resolves once its first element has rendered. `providers.x.setValue()`
 * swaps a client.
 */
export async function contextFixture<T extends HTMLElement>(
  template: TemplateResult,
  contexts: Contexts,
  wrapperStyle = '',
): Promise<{ el: T; wrapper: HTMLDivElement; providers: ContextProviders }> {
  const wrapper = await fixture<HTMLDivElement>(html`<div style=${wrapperStyle}></div>`);
  const providers = provideContexts(wrapper, contexts);
  render(template, wrapper);
  const el = wrapper.firstElementChild as T;
  await (el as Partial<{ updateComplete: Promise<unknown> }>).updateComplete;
  return { el, wrapper, providers };
}
