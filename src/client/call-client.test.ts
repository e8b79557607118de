import { expect, waitUntil } from '@open-wc/testing';
import { filter, firstValueFrom, map } from 'rxjs';
import { freshRoom, localWorkers, sfuStats } from '../test-support/local-workers.js';
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

async function member(roomName: string): Promise<Member> {
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
    const pulledBefore = (await sfuStats()).pulledTracks;

    await ann.call.setMicrophone(false);
    await firstValueFrom(
      bob.room.participants$.pipe(filter((ps) => ps.some((p) => p.id === ann.id() && !p.microphone))),
    );
    await ann.call.setMicrophone(true);
    await firstValueFrom(
      bob.room.participants$.pipe(filter((ps) => ps.some((p) => p.id === ann.id() && p.microphone))),
    );
    expect((await sfuStats()).pulledTracks).to.equal(pulledBefore);
  });

  it('leaves nothing behind on the SFU after leaving', async () => {
    const room = freshRoom('leave');
    const ann = await member(room);
    await ann.call.setCamera(true);
    await join(ann, 'Ann');
    await waitUntil(async () => (await sfuStats()).publishedTracks > 0, 'published');
    const before = await sfuStats();
    ann.room.leave();
    await waitUntil(
      async () => (await sfuStats()).publishedTracks === before.publishedTracks - 1,
      'closed on the SFU',
    );
    expect(ann.call.snapshot.camera).to.equal(false);
  });
});
