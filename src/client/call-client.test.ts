import { expect, waitUntil } from '@open-wc/testing';
import { filter, firstValueFrom, map } from 'rxjs';
import { dropSfuSession, freshRoom, localWorkers, sfuSession } from '../test-support/local-workers.js';
import { createCallClient, type MeetCallClient } from './call-client.js';
import type { RemoteMedia } from './call-types.js';
import { createMediaApi } from './media-api.js';
import { createRoomClient, type RoomClient } from './room-client.js';
import { selfOf } from './room-state.js';

interface Member {
  room: RoomClient;
  call: MeetCallClient;
  id: () => string;
}

const members: Member[] = [];
afterEach(() => {
  for (const m of members.splice(0)) {
    m.call.close();
    m.room.close();
  }
});

async function member(roomName: string, idleUnpublishMs?: number): Promise<Member> {
  const { open } = await localWorkers();
  const room = createRoomClient({ server: open, room: roomName });
  let state = { selfId: null as string | null, mediaKey: null as string | null };
  room.state$.subscribe((s) => (state = s));
  const api = createMediaApi(open, roomName, () =>
    state.selfId && state.mediaKey ? { participantId: state.selfId, key: state.mediaKey } : null,
  );
  const call = createCallClient({
    room,
    api,
    getStream: (request) => navigator.mediaDevices.getUserMedia(request),
    ...(idleUnpublishMs === undefined ? {} : { idleUnpublishMs }),
  });
  const m = { room, call, id: () => state.selfId! };
  members.push(m);
  await firstValueFrom(room.connection$.pipe(filter((s) => s === 'open')));
  return m;
}

async function join(m: Member, name: string) {
  m.room.join(name, { microphone: m.call.snapshot.microphone, camera: m.call.snapshot.camera });
  await firstValueFrom(m.room.state$.pipe(filter((s) => selfOf(s) !== null)));
}

const sessionOf = (m: Member) => m.call.sessionId ?? '';

const remoteOf = (m: Member, id: string, ready: (media: RemoteMedia) => boolean) =>
  firstValueFrom(
    m.call.remote$.pipe(
      map((all) => all.get(id)),
      filter((media): media is RemoteMedia => !!media && ready(media)),
    ),
  );

/** Plays a stream and resolves once a few video frames have been decoded. */
async function framesDecoded(stream: MediaStream, frames = 5): Promise<HTMLVideoElement> {
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = stream;
  document.body.append(video);
  await video.play();
  await waitUntil(() => (video.getVideoPlaybackQuality().totalVideoFrames ?? 0) >= frames, 'frames decoded', {
    timeout: 10_000,
  });
  return video;
}

describe('call client', () => {
  it('sends camera and microphone to another participant through the SFU', async () => {
    const room = freshRoom('call');
    const ann = await member(room);
    const bob = await member(room);
    await ann.call.setCamera(true);
    await ann.call.setMicrophone(true);
    expect(ann.call.snapshot.cameraStream?.getVideoTracks()).to.have.length(1);
    await join(ann, 'Ann');
    await join(bob, 'Bob');

    const media = await remoteOf(bob, ann.id(), (m) => m.stream.getTracks().length === 2);
    expect(media.stream.getAudioTracks()).to.have.length(1);
    const video = await framesDecoded(media.stream);
    expect(video.videoWidth).to.equal(640);
    video.remove();
  });

  it('mutes by replacing the track, without a new negotiation, and the room hears of it', async () => {
    const room = freshRoom('mute');
    const ann = await member(room);
    const bob = await member(room);
    await ann.call.setMicrophone(true);
    await join(ann, 'Ann');
    await join(bob, 'Bob');
    await remoteOf(bob, ann.id(), (m) => m.stream.getAudioTracks().length === 1);
    const bobSession = sessionOf(bob);
    const pulledBefore = (await sfuSession(bobSession)).pulled;

    await ann.call.setMicrophone(false);
    await firstValueFrom(
      bob.room.participants$.pipe(filter((ps) => ps.some((p) => p.id === ann.id() && !p.microphone))),
    );
    await ann.call.setMicrophone(true);
    await firstValueFrom(
      bob.room.participants$.pipe(filter((ps) => ps.some((p) => p.id === ann.id() && p.microphone))),
    );
    expect((await sfuSession(bobSession)).pulled).to.equal(pulledBefore);
  });

  it('turns the microphone off when a host mutes this participant', async () => {
    const room = freshRoom('host-mute');
    const host = await member(room);
    const guest = await member(room);
    await join(host, 'Host');
    await guest.call.setMicrophone(true);
    await join(guest, 'Guest');
    const microphone = guest.call.snapshot.cameraStream!.getAudioTracks()[0]!;
    host.room.muteParticipant(guest.id());
    await firstValueFrom(guest.call.local$.pipe(filter((local) => !local.microphone)));
    expect(microphone.readyState).to.equal('ended');
  });

  it('closes a track muted for long (Calls would collect it) and publishes anew on unmute', async () => {
    const room = freshRoom('long-mute');
    const ann = await member(room, 300);
    const bob = await member(room);
    await ann.call.setMicrophone(true);
    await join(ann, 'Ann');
    await join(bob, 'Bob');
    const first = await remoteOf(bob, ann.id(), (m) => m.stream.getAudioTracks().length === 1);
    const annSession = sessionOf(ann);

    await ann.call.setMicrophone(false);
    await waitUntil(async () => (await sfuSession(annSession)).published.length === 0, 'muted track closed');
    await firstValueFrom(bob.call.remote$.pipe(filter((all) => !all.get(ann.id()))));

    await ann.call.setMicrophone(true);
    const again = await remoteOf(bob, ann.id(), (m) => m.stream.getAudioTracks().length === 1);
    expect(again.stream.getAudioTracks()[0]).to.not.equal(first.stream.getAudioTracks()[0]);
    expect((await sfuSession(annSession)).published).to.deep.equal(['microphone']);
    await waitUntil(() => !again.stream.getAudioTracks()[0]!.muted, 'sound arrives again');
  });

  it('drops a screen share the sharer stopped, in the same session', async () => {
    const room = freshRoom('screen');
    const ann = await member(room);
    const bob = await member(room);
    const errors: string[] = [];
    bob.call.errors$.subscribe((e) => errors.push(e.message));
    ann.call.errors$.subscribe((e) => errors.push(e.message));
    await join(ann, 'Ann');
    await join(bob, 'Bob');
    await ann.call.setScreenShare(true);
    const media = await remoteOf(bob, ann.id(), (m) => m.screen !== null);
    await framesDecoded(media.screen!);
    const annSession = sessionOf(ann);
    expect((await sfuSession(annSession)).published).to.deep.equal(['screen']);
    await ann.call.setScreenShare(false);
    await firstValueFrom(bob.call.remote$.pipe(filter((all) => !all.get(ann.id())?.screen)));
    await waitUntil(
      async () => (await sfuSession(annSession)).published.length === 0,
      'screen closed on the SFU',
    );
    // Same session: no error, no recovery.
    expect(errors).to.deep.equal([]);
    expect((await sfuSession(annSession)).open).to.equal(true);
  });

  it('recovers with a new session when the SFU loses the old one', async function () {
    this.timeout(45_000);
    const room = freshRoom('recover');
    const ann = await member(room);
    const bob = await member(room);
    await ann.call.setCamera(true);
    await join(ann, 'Ann');
    await join(bob, 'Bob');
    const before = await remoteOf(bob, ann.id(), (m) => m.stream.getVideoTracks().length === 1);
    (await framesDecoded(before.stream)).remove();
    const oldTrack = before.stream.getVideoTracks()[0]!;
    const lost = sessionOf(ann);

    await dropSfuSession(lost);
    // Ann publishes again from a new session; Bob pulls the new track and sees her again.
    const self = await firstValueFrom(
      ann.room.self$.pipe(filter((me) => !!me?.tracks.camera && !me.tracks.camera.startsWith(lost))),
    );
    expect(sessionOf(ann)).to.not.equal(lost);
    const again = await remoteOf(bob, ann.id(), (m) => {
      const tracks = m.stream.getVideoTracks();
      return tracks.length === 1 && tracks[0] !== oldTrack;
    });
    (await framesDecoded(again.stream)).remove();
    expect(self!.tracks.camera).to.equal(`${sessionOf(ann)}/camera`);
  });

  it('leaves nothing behind on the SFU after leaving, and releases the camera', async () => {
    const room = freshRoom('leave');
    const ann = await member(room);
    await ann.call.setCamera(true);
    await join(ann, 'Ann');
    await firstValueFrom(ann.room.self$.pipe(filter((self) => !!self?.tracks.camera)));
    const annSession = sessionOf(ann);
    expect((await sfuSession(annSession)).published).to.deep.equal(['camera']);
    const camera = ann.call.snapshot.cameraStream!.getVideoTracks()[0]!;
    ann.room.leave();
    await waitUntil(async () => {
      const held = await sfuSession(annSession);
      return held.published.length === 0 && held.pulled === 0;
    }, 'tracks closed on the SFU');
    await firstValueFrom(ann.call.local$.pipe(filter((local) => !local.camera)));
    expect(camera.readyState).to.equal('ended');
  });
});
