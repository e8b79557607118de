import { expect } from '@open-wc/testing';
import type { Participant } from '../protocol/index.js';
import { applyServerMessage, emptyRoomState, selfOf, type RoomState } from './room-state.js';

const person = (id: string, joinedAt: number, extra: Partial<Participant> = {}): Participant => ({
  id,
  name: id.toUpperCase(),
  role: 'guest',
  joinedAt,
  microphone: false,
  camera: false,
  handRaised: false,
  tracks: {},
  ...extra,
});

const base: RoomState = applyServerMessage(emptyRoomState, {
  type: 'snapshot',
  protocol: 4,
  selfId: 'b',
  room: 'r',
  participants: [person('b', 2), person('a', 1, { role: 'host' })],
  lobby: 1,
  meeting: { id: 'm', startedAt: 1 },
});

describe('applyServerMessage', () => {
  it('takes a snapshot whole, in join order', () => {
    expect(base.participants.map((p) => p.id)).to.deep.equal(['a', 'b']);
    expect(selfOf(base)?.id).to.equal('b');
  });

  it('adds joiners once, in join order', () => {
    const joined = applyServerMessage(base, { type: 'participant-joined', participant: person('c', 3) });
    const again = applyServerMessage(joined, { type: 'participant-joined', participant: person('c', 3) });
    expect(again.participants.map((p) => p.id)).to.deep.equal(['a', 'b', 'c']);
  });

  it('patches only the changed fields', () => {
    const next = applyServerMessage(base, {
      type: 'participant-updated',
      id: 'b',
      changes: { handRaised: true },
    });
    expect(selfOf(next)).to.include({ handRaised: true, name: 'B', role: 'guest' });
    expect(next.participants[0]).to.equal(base.participants[0]);
  });

  it('mutes, removes, counts and ends', () => {
    let state = applyServerMessage(base, {
      type: 'participant-updated',
      id: 'a',
      changes: { microphone: true },
    });
    state = applyServerMessage(state, { type: 'participant-moderated', id: 'a', by: 'b', action: 'mute' });
    expect(state.participants[0]?.microphone).to.be.false;
    state = applyServerMessage(state, { type: 'participant-left', id: 'a', reason: 'left' });
    expect(state.participants.map((p) => p.id)).to.deep.equal(['b']);
    state = applyServerMessage(state, { type: 'lobby-count', count: 4 });
    expect(state.lobby).to.equal(4);
    state = applyServerMessage(state, { type: 'meeting-ended', id: 'm', by: 'b' });
    expect(state.meeting).to.be.null;
    expect(state.participants).to.be.empty;
  });

  it("applies a host's action to its target: camera off, hand down, host, removed", () => {
    let state = applyServerMessage(base, {
      type: 'participant-updated',
      id: 'b',
      changes: { camera: true, handRaised: true },
    });
    state = applyServerMessage(state, {
      type: 'participant-moderated',
      id: 'b',
      by: 'a',
      action: 'camera-off',
    });
    state = applyServerMessage(state, {
      type: 'participant-moderated',
      id: 'b',
      by: 'a',
      action: 'lower-hand',
    });
    state = applyServerMessage(state, {
      type: 'participant-moderated',
      id: 'b',
      by: 'a',
      action: 'make-host',
    });
    expect(selfOf(state)).to.include({ camera: false, handRaised: false, role: 'host', microphone: false });
    expect(state.participants[0]).to.equal(base.participants[0]);
    state = applyServerMessage(state, { type: 'participant-left', id: 'b', reason: 'removed', by: 'a' });
    expect(selfOf(state)).to.be.null;
    expect(state.participants.map((p) => p.id)).to.deep.equal(['a']);
  });

  it('returns the same state for messages that change nothing', () => {
    expect(applyServerMessage(base, { type: 'pong' })).to.equal(base);
    expect(applyServerMessage(base, { type: 'participant-left', id: 'zz', reason: 'left' })).to.equal(base);
    expect(
      applyServerMessage(base, { type: 'participant-updated', id: 'zz', changes: { camera: true } }),
    ).to.equal(base);
  });

  it('keeps what the room says of its AI: whether there is one, who may manage it, who holds talk', () => {
    expect(base.ai, 'an older server says nothing: no AI').to.deep.equal({
      available: false,
      talker: null,
      manage: 'host',
    });
    let state = applyServerMessage(base, {
      type: 'snapshot',
      protocol: 4,
      selfId: 'b',
      room: 'r',
      participants: [
        person('a', 1, { role: 'host' }),
        person('ai', 3, { role: 'agent', aiState: 'listening' }),
      ],
      lobby: 0,
      meeting: { id: 'm', startedAt: 1 },
      ai: { available: true, talker: null, manage: 'anyone' },
    });
    expect(state.ai).to.deep.equal({ available: true, talker: null, manage: 'anyone' });
    state = applyServerMessage(state, { type: 'ai-talker', id: 'a' });
    expect(state.ai.talker).to.equal('a');
    expect(applyServerMessage(state, { type: 'ai-talker', id: 'a' })).to.equal(state);
    state = applyServerMessage(state, { type: 'meeting-ended', id: 'm', by: 'a' });
    expect(state.ai).to.deep.equal({ available: true, talker: null, manage: 'anyone' });
  });
});
