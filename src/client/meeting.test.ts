/**
 * The headless meeting core against the real Worker and the local SFU, in
 * Chromium with its fake camera and microphone: media flows both ways, the
 * room hears one story about it, and it holds up when the room connection
 * drops, the SFU loses a session, or the visitor leaves.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { filter, firstValueFrom, map, type Observable } from 'rxjs';
import {
  dropSfuSession,
  freshRoom,
  localWorkers,
  negotiations,
  proxyToOpenWorker,
  sfuSession,
} from '../test-support/local-workers.js';
import type { RemoteMedia } from './call-types.js';
import { createDevices } from './devices.js';
import { createToneMicrophone } from '../test-support/tone-microphone.js';
import { createMeeting, type Meeting, type MeetingOptions } from './meeting.js';

const meetings: Meeting[] = [];
afterEach(() => {
  for (const m of meetings.splice(0)) m.close();
});

const first = <T>(source: Observable<T>, match: (value: T) => boolean) =>
  firstValueFrom(source.pipe(filter(match)));

async function visitor(room: string, options: Partial<MeetingOptions> = {}): Promise<Meeting> {
  const { open } = await localWorkers();
  const meeting = createMeeting({
    server: open,
    room,
    devices: createDevices({ storage: null }),
    ...options,
  });
  meetings.push(meeting);
  await first(meeting.phase$, (phase) => phase === 'lobby');
  await first(meeting.connection$, (status) => status === 'open');
  // The room's snapshot: this connection's id and media key.
  await first(meeting.state$, (state) => state.mediaKey !== null);
  return meeting;
}

async function join(meeting: Meeting, name: string): Promise<string> {
  expect(meeting.join(name)).to.be.true;
  await first(meeting.phase$, (phase) => phase === 'joined');
  return (await first(meeting.self$, (self) => self !== null))!.id;
}

const remoteOf = (m: Meeting, id: string, ready: (media: RemoteMedia) => boolean) =>
  firstValueFrom(
    m.remote$.pipe(
      map((all) => all.get(id)),
      filter((media): media is RemoteMedia => !!media && ready(media)),
    ),
  );

/**
 * Plays `id`'s sound on `m`'s page, as any UI does: Chromium measures the
 * level of received audio only while it plays. Remove the element after.
 */
async function playAudioOf(m: Meeting, id: string): Promise<HTMLAudioElement> {
  const media = await remoteOf(m, id, (r) => r.stream.getAudioTracks().length === 1);
  const speaker = document.createElement('audio');
  speaker.srcObject = media.stream;
  document.body.append(speaker);
  await speaker.play();
  return speaker;
}

/** Plays a stream and resolves once `frames` more video frames have been decoded. */
async function framesDecoded(stream: MediaStream, frames = 5): Promise<HTMLVideoElement> {
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = stream;
  document.body.append(video);
  await video.play();
  await waitUntil(() => video.getVideoPlaybackQuality().totalVideoFrames >= frames, 'frames decoded', {
    timeout: 10_000,
  });
  return video;
}

/** The video keeps decoding: `more` new frames after now. */
async function keepsPlaying(video: HTMLVideoElement, more = 10, timeout = 10_000): Promise<void> {
  const from = video.getVideoPlaybackQuality().totalVideoFrames;
  await waitUntil(
    () => video.getVideoPlaybackQuality().totalVideoFrames >= from + more,
    'video keeps playing',
    { timeout },
  );
}

/** The ref a participant announces for a medium, once it does. */
const announced = (m: Meeting, id: string, kind: 'microphone' | 'camera' | 'screen') =>
  first(m.participants$, (ps) => !!ps.find((p) => p.id === id)?.tracks[kind]).then(
    (ps) => ps.find((p) => p.id === id)!.tracks[kind]!,
  );

const sessionOfRef = (ref: string) => ref.split('/')[0]!;

describe('createMeeting', () => {
  it('goes from the lobby into the meeting, and media flows both ways', async () => {
    const room = freshRoom('meeting');
    const ann = await visitor(room);
    const bob = await visitor(room);
    await ann.setCamera(true);
    await ann.setMicrophone(true);
    await bob.setCamera(true);
    const annId = await join(ann, 'Ann');
    const bobId = await join(bob, 'Bob');

    const fromAnn = await remoteOf(bob, annId, (m) => m.stream.getTracks().length === 2);
    expect(fromAnn.stream.getAudioTracks()).to.have.length(1);
    const video = await framesDecoded(fromAnn.stream);
    expect(video.videoWidth).to.equal(640);
    video.remove();
    (
      await framesDecoded((await remoteOf(ann, bobId, (m) => m.stream.getVideoTracks().length === 1)).stream)
    ).remove();
    // The room heard one story: on, with the tracks' refs.
    const annAsBobSees = (await first(bob.participants$, (ps) => ps.length === 2)).find(
      (p) => p.id === annId,
    )!;
    expect(annAsBobSees).to.deep.include({ microphone: true, camera: true });
  });

  it('hears who is speaking from the audio it receives, and from its own microphone', async () => {
    const room = freshRoom('speaking');
    const tone = createToneMicrophone();
    try {
      const ann = await visitor(room, {
        devices: createDevices({ storage: null, mediaDevices: tone.mediaDevices }),
      });
      const bob = await visitor(room);
      await ann.setMicrophone(true);
      const annId = await join(ann, 'Ann');
      await join(bob, 'Bob');
      const speaker = await playAudioOf(bob, annId);
      const speaking = (m: Meeting, id: string, on: boolean) =>
        first(m.speaking$, (ids) => ids.includes(id) === on);
      // Silence first: nobody speaks, whatever the line carries.
      expect(await firstValueFrom(bob.speaking$)).to.deep.equal([]);

      tone.play(true);
      await Promise.all([speaking(bob, annId, true), speaking(ann, annId, true)]);
      tone.play(false);
      const quietAt = Date.now();
      await speaking(bob, annId, false);
      expect(Date.now() - quietAt, 'off only after about a second of quiet').to.be.greaterThan(700);
      speaker.remove();
    } finally {
      await tone.close();
    }
  });

  it("receives a small tile's camera in a low layer, and a larger one when the tile grows, without renegotiating", async () => {
    const room = freshRoom('layers');
    const ann = await visitor(room);
    const bob = await visitor(room);
    await ann.setCamera(true);
    const annId = await join(ann, 'Ann');
    await join(bob, 'Bob');
    const key = `${annId} camera`;
    bob.showVideo(new Map([[key, { width: 150, height: 112 }]]));
    const fromAnn = await remoteOf(bob, annId, (m) => m.stream.getVideoTracks().length === 1);
    const video = await framesDecoded(fromAnn.stream);
    // A thumbnail 150 px wide asks for the quarter layer; from a 640×480 camera Chrome sends only
    // the full and half ones, and the SFU gives the nearest: half, 320 px.
    await waitUntil(() => video.videoWidth === 320, 'a small layer', { timeout: 10_000 });
    await bob.settled();
    const bobSession = bob.mediaSessionId!;
    const before = negotiations(await sfuSession(bobSession));

    bob.showVideo(new Map([[key, { width: 700, height: 525 }]]));
    await waitUntil(() => video.videoWidth === 640, 'the full layer for a large tile', { timeout: 10_000 });
    await keepsPlaying(video);
    await bob.settled();
    expect(negotiations(await sfuSession(bobSession)), 'switched with no renegotiation').to.equal(before);
    video.remove();
  });

  it('data saver receives the lowest layer, audio-only no video, both remembered for the next meeting', async () => {
    const saved = new Map<string, string>();
    const storage = {
      getItem: (k: string) => saved.get(k) ?? null,
      setItem: (k: string, v: string) => saved.set(k, v),
    };
    const room = freshRoom('saver');
    const ann = await visitor(room);
    const bob = await visitor(room, { storage });
    await ann.setCamera(true);
    await ann.setMicrophone(true);
    const annId = await join(ann, 'Ann');
    await join(bob, 'Bob');
    const video = await framesDecoded(
      (await remoteOf(bob, annId, (m) => m.stream.getVideoTracks().length === 1)).stream,
    );
    expect(video.videoWidth).to.equal(640);

    bob.setDataSaver(true);
    await waitUntil(() => video.videoWidth === 320, 'the lowest layer Ann sends', { timeout: 10_000 });
    video.remove();

    bob.setAudioOnly(true);
    const audioOnly = await remoteOf(bob, annId, (m) => m.stream.getVideoTracks().length === 0);
    expect(audioOnly.stream.getAudioTracks(), 'still hears Ann').to.have.length(1);

    const next = await visitor(freshRoom('saver-next'), { storage });
    expect(await firstValueFrom(next.receiveSettings$)).to.deep.equal({ dataSaver: true, audioOnly: true });

    bob.setAudioOnly(false);
    const back = await remoteOf(bob, annId, (m) => m.stream.getVideoTracks().length === 1);
    const again = await framesDecoded(back.stream);
    expect(again.videoWidth, 'data saver still on').to.equal(320);
    again.remove();
  });

  it('hears a muted visitor talk in their own page only: nothing reaches the call until they unmute', async function () {
    this.timeout(20_000);
    const room = freshRoom('muted-speech');
    const tone = createToneMicrophone();
    try {
      const ann = await visitor(room, {
        devices: createDevices({ storage: null, mediaDevices: tone.mediaDevices }),
      });
      // Bob joins muted and never turns his microphone on: it is never opened (he is counted).
      const real = navigator.mediaDevices;
      let bobOpened = 0;
      const bobsDevices = {
        enumerateDevices: () => real.enumerateDevices(),
        addEventListener: real.addEventListener.bind(real),
        removeEventListener: real.removeEventListener.bind(real),
        getUserMedia: (constraints: MediaStreamConstraints) => (bobOpened++, real.getUserMedia(constraints)),
      } as unknown as MediaDevices;
      const bob = await visitor(room, {
        devices: createDevices({ storage: null, mediaDevices: bobsDevices }),
      });
      await ann.setMicrophone(true);
      const annId = await join(ann, 'Ann');
      await join(bob, 'Bob');
      const speaker = await playAudioOf(bob, annId);
      const [annSession, trackName] = (await announced(bob, annId, 'microphone')).split('/') as [
        string,
        string,
      ];
      const lastPacketAt = async () => (await sfuSession(annSession)).lastPacketAt[trackName]!;
      const mutedSpeech = (on: boolean) => first(ann.mutedSpeech$, (talking) => talking === on);
      // Whether anyone hears Ann as speaking, from the mute on; and followed throughout, as a UI does.
      const heardAnn: string[] = [];
      const watching = [
        ann.mutedSpeech$.subscribe(),
        bob.mutedSpeech$.subscribe(),
        bob.speaking$.subscribe((ids) => ids.includes(annId) && heardAnn.push('Bob')),
        ann.speaking$.subscribe((ids) => ids.includes(annId) && heardAnn.push('Ann herself')),
      ];

      await ann.setMicrophone(false);
      await first(bob.participants$, (ps) => ps.some((p) => p.id === annId && !p.microphone));
      await ann.settled();
      const mutedAt = await lastPacketAt();
      expect(await firstValueFrom(ann.mutedSpeech$), 'quiet, muted').to.be.false;

      tone.play(true);
      await mutedSpeech(true);
      tone.play(false);
      await mutedSpeech(false);
      // Over a second of tone and quiet (the hold): a live track would have sent 50 packets a second.
      expect(await lastPacketAt(), 'no packet reached the SFU while muted').to.equal(mutedAt);
      expect(heardAnn, 'nobody heard her speaking').to.deep.equal([]);

      tone.play(true);
      await mutedSpeech(true);
      const after: boolean[] = [];
      const unmuted = ann.mutedSpeech$.subscribe((talking) => after.push(talking));
      await ann.setMicrophone(true);
      await first(bob.speaking$, (ids) => ids.includes(annId));
      expect(after.at(-1), 'unmuted: no hint, while she talks on').to.be.false;
      expect(after.slice(1), 'it never came back').to.not.include(true);
      expect(await lastPacketAt()).to.be.greaterThan(mutedAt);
      expect(bobOpened, "Bob's microphone, never on in the meeting, was never opened").to.equal(0);
      for (const subscription of [...watching, unmuted]) subscription.unsubscribe();
      speaker.remove();
    } finally {
      await tone.close();
    }
  });

  it('mutes and unmutes without a new negotiation, and the room hears of it', async () => {
    const room = freshRoom('mute');
    const ann = await visitor(room);
    const bob = await visitor(room);
    await ann.setMicrophone(true);
    const annId = await join(ann, 'Ann');
    await join(bob, 'Bob');
    await remoteOf(bob, annId, (m) => m.stream.getAudioTracks().length === 1);
    const annSession = sessionOfRef(await announced(bob, annId, 'microphone'));
    await ann.settled();
    const before = negotiations(await sfuSession(annSession));

    await ann.setMicrophone(false);
    await first(bob.participants$, (ps) => ps.some((p) => p.id === annId && !p.microphone));
    await ann.setMicrophone(true);
    await first(bob.participants$, (ps) => ps.some((p) => p.id === annId && p.microphone));
    await ann.settled();
    expect(negotiations(await sfuSession(annSession))).to.equal(before);
  });

  it('switches to another microphone without a new negotiation', async () => {
    const room = freshRoom('switch');
    const ann = await visitor(room);
    const bob = await visitor(room);
    await ann.setMicrophone(true);
    const annId = await join(ann, 'Ann');
    await join(bob, 'Bob');
    await remoteOf(bob, annId, (m) => m.stream.getAudioTracks().length === 1);
    const annSession = sessionOfRef(await announced(bob, annId, 'microphone'));
    await ann.settled();
    const before = negotiations(await sfuSession(annSession));
    const oldTrack = (await firstValueFrom(ann.local$)).cameraStream!.getAudioTracks()[0]!;

    // The fake devices have one microphone; choosing it by id still opens a new track.
    const lists = await first(ann.devices.devices$, (l) => l.audioinput.some((d) => d.deviceId));
    ann.devices.select('audioinput', lists.audioinput.find((d) => d.deviceId)!.deviceId);
    const switched = await first(
      ann.local$,
      (local) => !!local.cameraStream && local.cameraStream.getAudioTracks()[0] !== oldTrack,
    );
    expect(oldTrack.readyState).to.equal('ended');
    expect(switched.cameraStream!.getAudioTracks()[0]!.readyState).to.equal('live');
    await ann.settled();
    expect(negotiations(await sfuSession(annSession))).to.equal(before);
    const heard = await remoteOf(bob, annId, (m) => m.stream.getAudioTracks().length === 1);
    await waitUntil(() => !heard.stream.getAudioTracks()[0]!.muted, 'sound still arrives');
  });

  it('turns the microphone off when a host mutes this participant, without flickering back on', async () => {
    const room = freshRoom('host-mute');
    const host = await visitor(room);
    const guest = await visitor(room);
    await join(host, 'Host');
    await guest.setMicrophone(true);
    const guestId = await join(guest, 'Guest');
    const microphone = (await firstValueFrom(guest.local$)).cameraStream!.getAudioTracks()[0]!;
    const seenByHost: boolean[] = [];
    host.participants$.subscribe((ps) => {
      const value = ps.find((p) => p.id === guestId)?.microphone;
      if (value !== undefined && value !== seenByHost.at(-1)) seenByHost.push(value);
    });
    const muted = first(guest.events$, (e) => e.type === 'moderated' && e.action === 'mute');
    host.muteParticipant(guestId);
    await muted;
    await first(guest.local$, (local) => !local.microphone);
    expect(microphone.readyState).to.equal('ended');
    await guest.settled();
    expect(seenByHost).to.deep.equal([true, false]);
  });

  it('turns the camera off when a host does, says who, and does not turn it back on', async () => {
    const room = freshRoom('host-camera');
    const host = await visitor(room);
    const guest = await visitor(room);
    const hostId = await join(host, 'Host');
    await guest.setCamera(true);
    const guestId = await join(guest, 'Guest');
    const camera = (await firstValueFrom(guest.local$)).cameraStream!.getVideoTracks()[0]!;
    const seenByHost: boolean[] = [];
    host.participants$.subscribe((ps) => {
      const value = ps.find((p) => p.id === guestId)?.camera;
      if (value !== undefined && value !== seenByHost.at(-1)) seenByHost.push(value);
    });
    const updated = first(host.events$, (e) => e.type === 'participant-updated');
    const told = first(guest.events$, (e) => e.type === 'moderated');
    host.turnCameraOff(guestId);
    const event = await told;
    expect(event).to.deep.include({ action: 'camera-off' });
    expect(event.type === 'moderated' && event.by?.id).to.equal(hostId);
    expect(await updated).to.deep.include({ changes: { camera: false } });
    await first(guest.local$, (local) => !local.camera);
    expect(camera.readyState).to.equal('ended');
    await guest.settled();
    expect(seenByHost).to.deep.equal([true, false]);
  });

  it('is out for good when a host removes it: left, told by whom, and not joined again', async () => {
    const room = freshRoom('removed');
    const host = await visitor(room);
    const guest = await visitor(room);
    const hostId = await join(host, 'Host');
    await guest.setMicrophone(true);
    const guestId = await join(guest, 'Guest');
    const left = first(guest.events$, (e) => e.type === 'left');
    const seen = first(host.events$, (e) => e.type === 'participant-left');
    host.removeParticipant(guestId);
    const event = await left;
    expect(event).to.deep.include({ reason: 'removed' });
    expect(event.type === 'left' && event.by?.id).to.equal(hostId);
    expect(await seen).to.deep.include({ reason: 'removed' });
    await first(guest.phase$, (phase) => phase === 'left');
    await first(guest.connection$, (status) => status === 'closed');
    await first(guest.local$, (local) => !local.microphone);
  });

  it('is out for good when removed while its connection was down: the room refuses it on coming back', async function () {
    this.timeout(30_000);
    const proxy = await proxyToOpenWorker();
    const room = freshRoom('removed-away');
    const host = await visitor(room);
    const guest = await visitor(room, { server: proxy.url });
    await join(host, 'Host');
    const guestId = await join(guest, 'Guest');
    // (Media requests fail too while the path is cut: those are not fatal.)
    const fatal: string[] = [];
    guest.errors$.subscribe((e) => e.fatal && fatal.push(e.code));

    await proxy.cut();
    await first(host.participants$, (ps) => ps.some((p) => p.id === guestId && p.reconnecting));
    const gone = first(host.events$, (e) => e.type === 'participant-left');
    host.removeParticipant(guestId);
    expect(await gone).to.deep.include({ reason: 'removed' });
    const left = first(guest.events$, (e) => e.type === 'left');
    await proxy.restore();
    expect(await left).to.deep.include({ reason: 'removed', by: null });
    await first(guest.phase$, (phase) => phase === 'left');
    await first(guest.connection$, (status) => status === 'failed');
    expect(fatal).to.deep.equal(['removed']);
    expect((await firstValueFrom(host.participants$)).map((p) => p.id)).to.not.include(guestId);
  });

  it('closes a track muted for long (Calls would collect it) and publishes anew on unmute', async () => {
    const room = freshRoom('long-mute');
    const ann = await visitor(room, { media: { idleUnpublishMs: 300 } });
    const bob = await visitor(room);
    await ann.setMicrophone(true);
    const annId = await join(ann, 'Ann');
    await join(bob, 'Bob');
    const heard = await remoteOf(bob, annId, (m) => m.stream.getAudioTracks().length === 1);
    const annSession = sessionOfRef(await announced(bob, annId, 'microphone'));

    await ann.setMicrophone(false);
    await waitUntil(async () => (await sfuSession(annSession)).published.length === 0, 'muted track closed');
    await first(bob.remote$, (all) => !all.get(annId));

    await ann.setMicrophone(true);
    const again = await remoteOf(bob, annId, (m) => m.stream.getAudioTracks().length === 1);
    expect(again.stream.getAudioTracks()[0]).to.not.equal(heard.stream.getAudioTracks()[0]);
    expect((await sfuSession(annSession)).published).to.deep.equal(['microphone']);
    await waitUntil(() => !again.stream.getAudioTracks()[0]!.muted, 'sound arrives again');
  });

  it('drops a screen share the sharer stopped, in the same session', async () => {
    const room = freshRoom('screen');
    const ann = await visitor(room);
    const bob = await visitor(room);
    const errors: string[] = [];
    for (const m of [ann, bob]) m.errors$.subscribe((e) => errors.push(e.message));
    const annId = await join(ann, 'Ann');
    await join(bob, 'Bob');
    await ann.setScreenShare(true);
    const media = await remoteOf(bob, annId, (m) => m.screen !== null);
    (await framesDecoded(media.screen!)).remove();
    const annSession = sessionOfRef(await announced(bob, annId, 'screen'));
    expect((await sfuSession(annSession)).published).to.deep.equal(['screen']);
    await ann.setScreenShare(false);
    await first(bob.remote$, (all) => !all.get(annId)?.screen);
    await waitUntil(
      async () => (await sfuSession(annSession)).published.length === 0,
      'screen closed on the SFU',
    );
    expect(errors).to.deep.equal([]);
    expect((await sfuSession(annSession)).open).to.equal(true);
  });

  it('keeps receiving when the first track pulled goes away (its m-line carried the connection)', async function () {
    this.timeout(30_000);
    const room = freshRoom('first-mline');
    const ann = await visitor(room);
    const bob = await visitor(room);
    const viewer = await visitor(room);
    await ann.setCamera(true);
    await bob.setCamera(true);
    const annId = await join(ann, 'Ann');
    await first(viewer.participants$, () => true);
    // The viewer publishes nothing: Ann's camera is its first m-line, Bob's its second.
    await join(viewer, 'Viewer');
    await remoteOf(viewer, annId, (m) => m.stream.getVideoTracks().length === 1);
    const bobId = await join(bob, 'Bob');
    const fromBob = await remoteOf(viewer, bobId, (m) => m.stream.getVideoTracks().length === 1);
    const video = await framesDecoded(fromBob.stream);
    const session = viewer.mediaSessionId;

    ann.leave();
    await first(viewer.remote$, (all) => !all.has(annId));
    // Bob keeps playing on the same connection: no hang, no new session.
    await keepsPlaying(video, 20, 4_000);
    expect(viewer.mediaSessionId).to.equal(session);
    video.remove();
  });

  it('a microphone muted for long (its m-line closed) stops nothing else, both ways', async function () {
    this.timeout(30_000);
    const room = freshRoom('long-mute-camera');
    const ann = await visitor(room, { media: { idleUnpublishMs: 300 } });
    const bob = await visitor(room);
    await ann.setMicrophone(true);
    await ann.setCamera(true);
    await bob.setCamera(true);
    const annId = await join(ann, 'Ann');
    const bobId = await join(bob, 'Bob');
    const annSeen = await framesDecoded(
      (await remoteOf(bob, annId, (m) => m.stream.getVideoTracks().length === 1)).stream,
    );
    const bobSeen = await framesDecoded(
      (await remoteOf(ann, bobId, (m) => m.stream.getVideoTracks().length === 1)).stream,
    );
    const annSession = sessionOfRef(await announced(bob, annId, 'camera'));

    await ann.setMicrophone(false);
    await waitUntil(
      async () => (await sfuSession(annSession)).published.join() === 'camera',
      'the microphone closed on the SFU',
    );
    await Promise.all([keepsPlaying(annSeen, 20, 4_000), keepsPlaying(bobSeen, 20, 4_000)]);
    expect(ann.mediaSessionId).to.equal(annSession);
    annSeen.remove();
    bobSeen.remove();
  });

  it('recovers with a new session when the SFU loses the old one', async function () {
    this.timeout(45_000);
    const room = freshRoom('recover');
    const ann = await visitor(room);
    const bob = await visitor(room);
    await ann.setCamera(true);
    const annId = await join(ann, 'Ann');
    await join(bob, 'Bob');
    const before = await remoteOf(bob, annId, (m) => m.stream.getVideoTracks().length === 1);
    (await framesDecoded(before.stream)).remove();
    const oldTrack = before.stream.getVideoTracks()[0]!;
    const lost = sessionOfRef(await announced(bob, annId, 'camera'));

    await dropSfuSession(lost);
    const ref = await first(bob.participants$, (ps) => {
      const camera = ps.find((p) => p.id === annId)?.tracks.camera;
      return !!camera && !camera.startsWith(lost);
    });
    const again = await remoteOf(bob, annId, (m) => {
      const tracks = m.stream.getVideoTracks();
      return tracks.length === 1 && tracks[0] !== oldTrack;
    });
    (await framesDecoded(again.stream)).remove();
    expect(ref.find((p) => p.id === annId)!.tracks.camera).to.equal(`${ann.mediaSessionId}/camera`);
  });

  it('leaves nothing on the SFU after leaving, releases the camera, and sends no media request', async () => {
    const room = freshRoom('leave');
    const ann = await visitor(room);
    const bob = await visitor(room);
    await bob.setCamera(true);
    const bobId = await join(bob, 'Bob');
    await ann.setCamera(true);
    await join(ann, 'Ann');
    await remoteOf(ann, bobId, (m) => m.stream.getVideoTracks().length === 1);
    await ann.settled();
    const annSession = ann.mediaSessionId!;
    const held = await sfuSession(annSession);
    expect(held.published).to.deep.equal(['camera']);
    expect(held.pulled).to.equal(1);
    const camera = (await firstValueFrom(ann.local$)).cameraStream!.getVideoTracks()[0]!;
    const closes = held.requests.tracksClose;

    ann.leave();
    await first(ann.phase$, (phase) => phase === 'left');
    await waitUntil(async () => {
      const after = await sfuSession(annSession);
      return after.published.length === 0 && after.pulled === 0;
    }, 'published and pulled tracks closed on the SFU');
    await first(ann.local$, (local) => !local.camera);
    expect(camera.readyState).to.equal('ended');
    // The room closed them (one forced close), not the browser after it had left.
    expect((await sfuSession(annSession)).requests.tracksClose).to.equal(closes + 1);
  });

  it('closing it (a page unmounting the widget) sends no request that fails, and the room closes the media', async () => {
    const room = freshRoom('teardown');
    const ann = await visitor(room);
    const bob = await visitor(room);
    await ann.setCamera(true);
    const annId = await join(ann, 'Ann');
    await join(bob, 'Bob');
    const annSession = sessionOfRef(await announced(bob, annId, 'camera'));
    await ann.settled();
    const failed: string[] = [];
    const realFetch = window.fetch;
    window.fetch = async (...args) => {
      const response = await realFetch(...args);
      if (!response.ok) failed.push(`${response.status} ${response.url}`);
      return response;
    };
    try {
      ann.close();
      await first(bob.events$, (e) => e.type === 'participant-left');
      await waitUntil(async () => (await sfuSession(annSession)).published.length === 0, 'closed on the SFU');
    } finally {
      window.fetch = realFetch;
    }
    expect(failed).to.deep.equal([]);
  });

  it('keeps the same participant and its media when the room connection drops and comes back', async function () {
    this.timeout(30_000);
    const proxy = await proxyToOpenWorker();
    const room = freshRoom('resume');
    const ann = await visitor(room, { server: proxy.url });
    const bob = await visitor(room);
    await ann.setCamera(true);
    await ann.setMicrophone(true);
    const annId = await join(ann, 'Ann');
    await join(bob, 'Bob');
    const media = await remoteOf(bob, annId, (m) => m.stream.getTracks().length === 2);
    const video = await framesDecoded(media.stream);
    const ref = await announced(bob, annId, 'camera');

    await proxy.cut();
    await first(ann.phase$, (phase) => phase === 'reconnecting');
    await first(bob.participants$, (ps) => ps.some((p) => p.id === annId && p.reconnecting));
    // The media path is not the room's: Bob still sees Ann meanwhile.
    await keepsPlaying(video);
    await proxy.restore();
    await first(ann.phase$, (phase) => phase === 'joined');
    const back = await first(bob.participants$, (ps) => ps.some((p) => p.id === annId && !p.reconnecting));
    expect(back.find((p) => p.id === annId)).to.deep.include({ microphone: true, camera: true });
    expect(back.find((p) => p.id === annId)!.tracks.camera).to.equal(ref);
    await keepsPlaying(video);
    video.remove();
  });

  it('asks Calls on resuming, and replaces a session that ended while the room connection was down', async function () {
    this.timeout(30_000);
    const proxy = await proxyToOpenWorker();
    const room = freshRoom('resume-lost');
    const ann = await visitor(room, { server: proxy.url });
    const bob = await visitor(room);
    await ann.setCamera(true);
    const annId = await join(ann, 'Ann');
    await join(bob, 'Bob');
    const before = await remoteOf(bob, annId, (m) => m.stream.getVideoTracks().length === 1);
    (await framesDecoded(before.stream)).remove();
    const lost = ann.mediaSessionId!;
    const connectionErrors: string[] = [];
    const errors = ann.errors$.subscribe((e) => connectionErrors.push(e.code));

    await proxy.cut();
    await first(ann.phase$, (phase) => phase === 'reconnecting');
    // The media path broke too: the SFU ends the session, while Ann's connection still looks up.
    await dropSfuSession(lost);
    await proxy.restore();
    await first(ann.phase$, (phase) => phase === 'joined');
    const ref = await first(bob.participants$, (ps) => {
      const camera = ps.find((p) => p.id === annId)?.tracks.camera;
      return !!camera && !camera.startsWith(lost);
    });
    const again = await remoteOf(
      bob,
      annId,
      (m) => m.stream.getVideoTracks()[0]?.id !== before.stream.getVideoTracks()[0]?.id,
    );
    (await framesDecoded(again.stream)).remove();
    expect(ref.find((p) => p.id === annId)!.tracks.camera).to.equal(`${ann.mediaSessionId}/camera`);
    // Found by asking Calls on resuming, not by waiting for the browser's connection to fail.
    expect(connectionErrors).to.not.include('connection-failed');
    errors.unsubscribe();
  });
});

describe('createMeeting: media prepared in the lobby', () => {
  /** The participant-joined event `m` gets for `name`. */
  const joinedAs = (m: Meeting, name: string) =>
    first(m.events$, (e) => e.type === 'participant-joined' && e.participant.name === name).then((e) =>
      e.type === 'participant-joined' ? e.participant : null,
    );

  it('publishes the camera before joining; joining announces it and the session carries over', async () => {
    const room = freshRoom('warm');
    const bob = await visitor(room);
    await bob.setCamera(true);
    const bobId = await join(bob, 'Bob');
    const ann = await visitor(room);
    await ann.setCamera(true);
    await ann.settled();
    const warmed = ann.mediaSessionId!;
    await waitUntil(
      async () => (await sfuSession(warmed)).published.join() === 'camera',
      'camera published from the lobby',
    );
    const before = (await sfuSession(warmed)).requests;

    const seen = joinedAs(bob, 'Ann');
    const annId = await join(ann, 'Ann');
    // Announced with the join: nothing to wait for before pulling it.
    expect((await seen)!.tracks).to.deep.equal({ camera: `${warmed}/camera` });
    (
      await framesDecoded((await remoteOf(bob, annId, (m) => m.stream.getVideoTracks().length === 1)).stream)
    ).remove();
    (
      await framesDecoded((await remoteOf(ann, bobId, (m) => m.stream.getVideoTracks().length === 1)).stream)
    ).remove();
    // The same session; joining only pulled Bob's camera (one offer, one answer).
    await ann.settled();
    expect(ann.mediaSessionId).to.equal(warmed);
    const after = (await sfuSession(warmed)).requests;
    expect([after.tracksNew - before.tracksNew, after.renegotiate - before.renegotiate]).to.deep.equal([
      1, 1,
    ]);
  });

  it('makes no session for a visitor with nothing on until they join', async () => {
    const ann = await visitor(freshRoom('cold'));
    await ann.settled();
    expect(ann.mediaSessionId).to.equal(null);
    await join(ann, 'Ann');
    await ann.settled();
    expect(ann.mediaSessionId).to.not.equal(null);
  });

  it('joins while the lobby is still preparing: announced once published, in the same session', async () => {
    const room = freshRoom('warming');
    const bob = await visitor(room);
    await join(bob, 'Bob');
    const ann = await visitor(room);
    const seen = joinedAs(bob, 'Ann');
    await ann.setCamera(true);
    // At once: the session is still being made.
    const annId = await join(ann, 'Ann');
    expect((await seen)!.tracks).to.deep.equal({});
    const ref = await announced(bob, annId, 'camera');
    (
      await framesDecoded((await remoteOf(bob, annId, (m) => m.stream.getVideoTracks().length === 1)).stream)
    ).remove();
    expect(ref).to.equal(`${ann.mediaSessionId}/camera`);
    expect((await sfuSession(ann.mediaSessionId!)).requests.tracksNew).to.equal(1);
  });

  it('joins after the lobby failed to prepare, and the camera arrives', async () => {
    const room = freshRoom('warm-failed');
    const bob = await visitor(room);
    await join(bob, 'Bob');
    const ann = await visitor(room);
    const annConnection = (await firstValueFrom(ann.state$)).selfId!;
    // Ann's first publish never reaches the server (her network drops it).
    const realFetch = window.fetch;
    let dropped = 0;
    window.fetch = (input, init) => {
      const auth = new Headers(init?.headers).get('authorization') ?? '';
      const url = input instanceof Request ? input.url : input.toString();
      if (url.endsWith('/media/publish') && auth.includes(`${annConnection}.`) && dropped++ === 0)
        return Promise.reject(new TypeError('Failed to fetch'));
      return realFetch(input, init);
    };
    try {
      const failed = first(ann.errors$, (e) => e.code === 'connection-failed');
      await ann.setCamera(true);
      await failed;
      const annId = await join(ann, 'Ann');
      const media = await remoteOf(bob, annId, (m) => m.stream.getVideoTracks().length === 1);
      (await framesDecoded(media.stream)).remove();
      expect(dropped).to.be.greaterThan(0);
    } finally {
      window.fetch = realFetch;
    }
  });

  it('prepares a new session when the room connection comes back as a new visitor, and the old one is closed', async function () {
    this.timeout(20_000);
    const proxy = await proxyToOpenWorker();
    const room = freshRoom('lobby-reconnect');
    const ann = await visitor(room, { server: proxy.url });
    await ann.setCamera(true);
    await ann.settled();
    const before = ann.mediaSessionId!;
    await waitUntil(
      async () => (await sfuSession(before)).published.length === 1,
      'published from the lobby',
    );
    const firstConnection = (await firstValueFrom(ann.state$)).selfId;

    await proxy.cut();
    await first(ann.connection$, (status) => status === 'reconnecting');
    // The room let the lobby visitor go, and with it what it published.
    await waitUntil(async () => (await sfuSession(before)).published.length === 0, 'closed by the room');
    await proxy.restore();
    await first(ann.state$, (state) => state.selfId !== firstConnection && state.mediaKey !== null);
    await waitUntil(
      () => !!ann.mediaSessionId && ann.mediaSessionId !== before,
      'a new session for the new connection',
    );
    await waitUntil(
      async () => (await sfuSession(ann.mediaSessionId!)).published.join() === 'camera',
      'published again',
    );
  });

  it('after leaving, prepares again in the lobby and joins with a new session', async () => {
    const room = freshRoom('rejoin');
    const bob = await visitor(room);
    await join(bob, 'Bob');
    const ann = await visitor(room);
    await ann.setCamera(true);
    const annId = await join(ann, 'Ann');
    const firstRef = await announced(bob, annId, 'camera');
    ann.leave();
    await first(ann.phase$, (phase) => phase === 'left');
    await first(bob.participants$, (ps) => !ps.some((p) => p.id === annId));

    await ann.setCamera(true);
    await ann.settled();
    const warmed = ann.mediaSessionId!;
    expect(warmed).to.not.equal(sessionOfRef(firstRef));
    const seen = joinedAs(bob, 'Ann');
    await join(ann, 'Ann');
    expect((await seen)!.tracks).to.deep.equal({ camera: `${warmed}/camera` });
    (
      await framesDecoded((await remoteOf(bob, annId, (m) => m.stream.getVideoTracks().length === 1)).stream)
    ).remove();
  });
});
