import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../../src/protocol/index.js';
import { connect, freshRoom, joined, roomSummary, useWorker } from '../test-support.js';

const worker = useWorker();

describe('presence', () => {
  it('sends a snapshot on connect, then one delta per change', async () => {
    const room = freshRoom('presence');
    const ann = await connect(worker, room);
    const snapshot = await ann.next('snapshot');
    expect(snapshot).toMatchObject({ protocol: 4, room, participants: [], lobby: 1, meeting: null });

    const annParticipant = await ann.join('  Ann  ');
    expect(annParticipant).toMatchObject({ name: 'Ann', role: 'host', microphone: false, handRaised: false });
    expect(ann.received.find((m) => m.type === 'meeting-started')).toMatchObject({
      meeting: { id: expect.any(String) },
    });

    const bob = await connect(worker, room);
    const bobSnapshot = await bob.next('snapshot');
    expect(bobSnapshot.participants.map((p) => p.name)).toEqual(['Ann']);
    expect(bobSnapshot.lobby).toBe(1);
    // The count is sent at most once a second: wait for the one that says so.
    expect(await ann.next('lobby-count', (m) => m.count === 1)).toEqual({ type: 'lobby-count', count: 1 });

    bob.send({ type: 'join', name: 'Bob', state: { microphone: true } });
    const seen = await ann.next('participant-joined', (m) => m.participant.name === 'Bob');
    expect(seen.participant).toMatchObject({ role: 'guest', microphone: true, camera: false });
    expect(await ann.next('lobby-count', (m) => m.count === 0)).toEqual({ type: 'lobby-count', count: 0 });
  });

  it('broadcasts only the fields that changed, and nothing for a no-op', async () => {
    const room = freshRoom('update');
    const { socket: ann } = await joined(worker, room, 'Ann');
    const { socket: bob, participant: bobParticipant } = await joined(worker, room, 'Bob');

    bob.send({ type: 'update', changes: { handRaised: false, camera: false } }); // already so: no delta
    bob.send({ type: 'update', changes: { handRaised: true, microphone: false } });
    const update = await ann.next('participant-updated');
    expect(update).toEqual({
      type: 'participant-updated',
      id: bobParticipant.id,
      changes: { handRaised: true },
    });
    expect(JSON.stringify(update).length).toBeLessThan(120);
  });

  it('leave returns to the lobby and rejoining works', async () => {
    const room = freshRoom('leave');
    const { socket: ann } = await joined(worker, room, 'Ann');
    const { socket: bob, participant: bobParticipant } = await joined(worker, room, 'Bob');
    bob.send({ type: 'leave' });
    expect(await ann.next('participant-left')).toMatchObject({ id: bobParticipant.id, reason: 'left' });
    // The count is sent at most once a second: wait for the one that says so.
    expect(await ann.next('lobby-count', (m) => m.count === 1)).toEqual({ type: 'lobby-count', count: 1 });
    bob.send({ type: 'join', name: 'Bob again' });
    expect((await ann.next('participant-joined')).participant).toMatchObject({
      id: bobParticipant.id,
      name: 'Bob again',
    });
  });

  it('a closed tab disappears from the others at once', async () => {
    const room = freshRoom('close');
    const { socket: ann } = await joined(worker, room, 'Ann');
    const { socket: bob, participant: bobParticipant } = await joined(worker, room, 'Bob');
    await bob.close(1001); // What a browser sends when its tab closes.
    const left = await ann.next('participant-left', () => true, 2_000);
    expect(left).toMatchObject({ id: bobParticipant.id, reason: 'disconnected' });
    expect(ann.received.some((m) => m.type === 'participant-updated' && m.changes.reconnecting)).toBe(false);
  });

  it('delivers direct messages only to their target', async () => {
    const room = freshRoom('dm');
    const { socket: ann, participant: annParticipant } = await joined(worker, room, 'Ann');
    const { socket: bob, participant: bobParticipant } = await joined(worker, room, 'Bob');
    const { socket: cat } = await joined(worker, room, 'Cat');
    ann.send({ type: 'direct-message', to: bobParticipant.id, message: 'psst' });
    expect(await bob.next('direct-message')).toEqual({
      type: 'direct-message',
      from: annParticipant.id,
      message: 'psst',
    });
    ann.send({ type: 'direct-message', to: 'nobody', message: 'hello?' });
    expect(await ann.next('error')).toMatchObject({ code: 'unknown-participant' });
    // Cat got nothing: the next thing Cat sees is a later broadcast, not the message.
    bob.send({ type: 'update', changes: { handRaised: true } });
    await cat.next('participant-updated');
    expect(cat.received.some((m) => m.type === 'direct-message')).toBe(false);
  });
});

describe('meeting record', () => {
  it('starts at the first join, keeps the peak and ends when the last participant leaves', async () => {
    const room = freshRoom('record');
    const { socket: ann } = await joined(worker, room, 'Ann');
    const { socket: bob } = await joined(worker, room, 'Bob');
    const { socket: cat } = await joined(worker, room, 'Cat');
    const during = await roomSummary(worker, room);
    expect(during).toMatchObject({ participants: 3, meeting: { id: expect.any(String) } });
    expect(during.lastMeeting).toMatchObject({ peakParticipants: 3, endedAt: null });

    await cat.close();
    await bob.close();
    ann.send({ type: 'leave' });
    const ended = await ann.next('meeting-ended');
    expect(ended.id).toBe(during.meeting!.id);
    expect(ended.by).toBeUndefined();
    const after = await roomSummary(worker, room);
    expect(after.meeting).toBeNull();
    expect(after.lastMeeting).toMatchObject({
      id: during.meeting!.id,
      peakParticipants: 3,
      endedAt: expect.any(Number),
    });
  });
});

describe('roles', () => {
  it('hands host over to the longest-present participant', async () => {
    const room = freshRoom('handover');
    const { socket: ann, participant: annParticipant } = await joined(worker, room, 'Ann');
    const { socket: bob, participant: bobParticipant } = await joined(worker, room, 'Bob');
    const { socket: cat } = await joined(worker, room, 'Cat');
    expect(annParticipant.role).toBe('host');
    expect(bobParticipant.role).toBe('guest');
    await ann.close();
    expect(await cat.next('participant-updated')).toEqual({
      type: 'participant-updated',
      id: bobParticipant.id,
      changes: { role: 'host' },
    });
    expect(await bob.next('participant-updated')).toMatchObject({ id: bobParticipant.id });
  });

  it('lets only a host mute others or end the meeting', async () => {
    const room = freshRoom('moderation');
    const { socket: ann, participant: annParticipant } = await joined(worker, room, 'Ann');
    const { socket: bob, participant: bobParticipant } = await joined(worker, room, 'Bob');
    const { socket: cat } = await joined(worker, room, 'Cat');

    bob.send({ type: 'mute-participant', id: annParticipant.id });
    expect(await bob.next('error')).toMatchObject({ code: 'forbidden', cause: 'mute-participant' });
    bob.send({ type: 'end-meeting' });
    expect(await bob.next('error')).toMatchObject({ code: 'forbidden', cause: 'end-meeting' });

    bob.send({ type: 'update', changes: { microphone: true } });
    await cat.next('participant-updated', (m) => m.changes.microphone === true);
    ann.send({ type: 'mute-participant', id: bobParticipant.id });
    const muted = {
      type: 'participant-moderated',
      id: bobParticipant.id,
      by: annParticipant.id,
      action: 'mute',
    };
    expect(await bob.next('participant-moderated')).toEqual(muted);
    expect(await cat.next('participant-moderated')).toEqual(muted);
    const newcomer = await connect(worker, room);
    const snapshot = await newcomer.next('snapshot');
    expect(snapshot.participants.find((p) => p.id === bobParticipant.id)?.microphone).toBe(false);

    ann.send({ type: 'mute-participant', id: 'ghost' });
    expect(await ann.next('error')).toMatchObject({ code: 'unknown-participant' });

    ann.send({ type: 'end-meeting' });
    expect(await cat.next('meeting-ended')).toMatchObject({ by: annParticipant.id });
    expect(await newcomer.next('meeting-ended')).toMatchObject({ by: annParticipant.id });
    // Everyone, the lobby included, is out of the room at once.
    expect(await roomSummary(worker, room)).toMatchObject({
      participants: 0,
      lobby: 0,
      meeting: null,
      lastMeeting: { endedAt: expect.any(Number), peakParticipants: 3 },
    });
  });
});

describe('bad input', () => {
  /** After each bad frame, a bystander still gets deltas from a well-behaved participant. */
  async function roomWithBystander(label: string) {
    const room = freshRoom(label);
    const { socket: bad } = await joined(worker, room, 'Mallory');
    const { socket: good, participant: goodParticipant } = await joined(worker, room, 'Good');
    const { socket: bystander } = await joined(worker, room, 'Bystander');
    const roomStillWorks = async () => {
      good.send({
        type: 'update',
        changes: {
          handRaised: !good.received.some(
            (m) => m.type === 'participant-updated' && m.id === goodParticipant.id && m.changes.handRaised,
          ),
        },
      });
      await bystander.next('participant-updated', (m) => m.id === goodParticipant.id);
    };
    return { room, bad, good, bystander, roomStillWorks };
  }

  it.each([
    ['malformed JSON', '{"type": "update", ', 'invalid-message', undefined],
    ['an unknown type', '{"type":"make-coffee"}', 'invalid-message', 'make-coffee'],
    ['a wrong field type', '{"type":"update","changes":{"microphone":"yes"}}', 'invalid-message', 'update'],
    ['a non-object', '42', 'invalid-message', undefined],
  ])('answers %s with a typed error', async (_label, frame, code, cause) => {
    const { bad, roomStillWorks } = await roomWithBystander('bad-json');
    bad.sendRaw(frame);
    const error = await bad.next('error');
    expect(error.code).toBe(code);
    expect(error.cause).toBe(cause);
    expect(error.message).not.toMatch(/\bat .*:\d+|Error:/);
    await roomStillWorks();
  });

  it('refuses binary frames', async () => {
    const { bad, roomStillWorks } = await roomWithBystander('binary');
    bad.sendRaw(Buffer.from([1, 2, 3]));
    expect(await bad.next('error')).toMatchObject({ code: 'binary-not-supported' });
    await roomStillWorks();
  });

  it('refuses oversized frames, and closes with 1009 when it keeps happening', async () => {
    const { bad, roomStillWorks } = await roomWithBystander('oversized');
    const huge = JSON.stringify({ type: 'direct-message', to: 'x', message: 'a'.repeat(MAX_FRAME_BYTES) });
    bad.sendRaw(huge);
    expect(await bad.next('error')).toMatchObject({ code: 'too-large' });
    await roomStillWorks();
    bad.sendRaw(huge);
    bad.sendRaw(huge);
    expect((await bad.closed).code).toBe(1009);
    await roomStillWorks();
  });

  it('rate-limits a flood, then closes the flooding connection with 1008', async () => {
    const { bad, bystander, roomStillWorks } = await roomWithBystander('flood');
    for (let i = 0; i < 400; i++) bad.send({ type: 'update', changes: { handRaised: i % 2 === 0 } });
    expect(await bad.next('error')).toMatchObject({ code: 'rate-limited' });
    expect((await bad.closed).code).toBe(1008);
    // The flood reached the others only up to the rate limit.
    const fromFlood = bystander.received.filter((m) => m.type === 'participant-updated').length;
    expect(fromFlood).toBeLessThanOrEqual(70);
    await roomStillWorks();
  });

  it('validates names', async () => {
    const room = freshRoom('names');
    const socket = await connect(worker, room);
    await socket.next('snapshot');
    for (const name of ['', '   ', 'x'.repeat(65), 'bad\u0000name']) {
      socket.send({ type: 'join', name });
      expect(await socket.next('error')).toMatchObject({ code: 'invalid-name' });
    }
    socket.send({ type: 'join', name: '<img src=x onerror=alert(1)>' });
    const joinedAs = await socket.next('participant-joined');
    expect(joinedAs.participant.name).toBe('<img src=x onerror=alert(1)>');
    socket.send({ type: 'join', name: 'Again' });
    expect(await socket.next('error')).toMatchObject({ code: 'already-joined' });
  });

  it('asks lobby connections to join before acting', async () => {
    const socket = await connect(worker, freshRoom('lobby-only'));
    await socket.next('snapshot');
    socket.send({ type: 'update', changes: { handRaised: true } });
    expect(await socket.next('error')).toMatchObject({ code: 'not-joined', cause: 'update' });
  });

  it.each([
    ['an old protocol version', '0'],
    ['no protocol version', null],
  ])('tells a widget with %s to reload, and closes', async (_label, version) => {
    const socket = await connect(worker, freshRoom('version'), { version, heartbeatMs: 0 });
    expect(await socket.next('error')).toMatchObject({ code: 'protocol-version' });
    expect((await socket.closed).code).toBe(1008);
  });
});
