import { expect } from '@open-wc/testing';
import {
  displayName,
  parseClientMessage,
  parseServerMessage,
  PICTURE_URL_MAX_LENGTH,
  pictureUrl,
  PING_FRAME,
  PONG_FRAME,
} from './index.js';

const participant = {
  id: 'p1',
  name: 'Ann',
  role: 'host',
  joinedAt: 1,
  microphone: true,
  camera: false,
  handRaised: false,
  tracks: { microphone: 'abc123/mic' },
};

const validClient: Record<string, unknown> = {
  ping: { type: 'ping' },
  join: { type: 'join', name: 'Ann', state: { microphone: true } },
  leave: { type: 'leave' },
  update: { type: 'update', changes: { handRaised: true } },
  'mute-participant': { type: 'mute-participant', id: 'p2' },
  'turn-camera-off': { type: 'turn-camera-off', id: 'p2' },
  'lower-hand': { type: 'lower-hand', id: 'p2' },
  'remove-participant': { type: 'remove-participant', id: 'p2' },
  'make-host': { type: 'make-host', id: 'p2' },
  'end-meeting': { type: 'end-meeting' },
  'direct-message': { type: 'direct-message', to: 'p2', message: 'hi' },
};

const invalidClient: Record<string, unknown> = {
  join: { type: 'join' },
  update: { type: 'update', changes: { microphone: 'yes' } },
  'mute-participant': { type: 'mute-participant', id: '' },
  'remove-participant': { type: 'remove-participant' },
  'make-host': { type: 'make-host', id: 42 },
  'direct-message': { type: 'direct-message', to: 'p2', message: 'x'.repeat(8 * 1024 + 1) },
  'bad track': { type: 'update', changes: { tracks: { camera: 'not a track' } } },
  'ai-talk': { type: 'ai-talk', on: 'yes' },
  unknown: { type: 'make-coffee' },
  'no type': { name: 'Ann' },
};

const validServer: Record<string, unknown> = {
  pong: { type: 'pong' },
  snapshot: {
    type: 'snapshot',
    protocol: 4,
    selfId: 'p1',
    room: 'r',
    participants: [participant],
    lobby: 0,
    meeting: null,
  },
  'participant-joined': { type: 'participant-joined', participant },
  'participant-updated': { type: 'participant-updated', id: 'p1', changes: { role: 'host' } },
  'participant-left': { type: 'participant-left', id: 'p1', reason: 'timed-out' },
  'participant-moderated': { type: 'participant-moderated', id: 'p1', by: 'p2', action: 'camera-off' },
  'participant-left by a host': { type: 'participant-left', id: 'p1', reason: 'removed', by: 'p2' },
  removed: { type: 'error', code: 'removed', message: 'Ann removed you from this meeting.' },
  'lobby-count': { type: 'lobby-count', count: 3 },
  'meeting-started': { type: 'meeting-started', meeting: { id: 'm1', startedAt: 5 } },
  'meeting-ended': { type: 'meeting-ended', id: 'm1', by: 'p1' },
  'direct-message': { type: 'direct-message', from: 'p1', message: 'hi' },
  error: { type: 'error', code: 'rate-limited', message: 'slow down', cause: 'update' },
  'snapshot with the AI': {
    type: 'snapshot',
    protocol: 4,
    selfId: 'p1',
    room: 'r',
    participants: [
      participant,
      { ...participant, id: 'ai', name: 'AI', role: 'agent', aiState: 'listening' },
    ],
    lobby: 0,
    meeting: null,
    ai: { available: true, talker: 'p1' },
  },
  'agent state': { type: 'participant-updated', id: 'ai', changes: { aiState: 'speaking' } },
  'ai-talker': { type: 'ai-talker', id: null },
  'ai-caption': { type: 'ai-caption', id: 'ai', text: 'Hello', final: false },
  'ai-busy': { type: 'error', code: 'ai-busy', message: 'Bob is talking', cause: 'ai-talk', holder: 'p2' },
};

const invalidServer: Record<string, unknown> = {
  snapshot: {
    type: 'snapshot',
    protocol: 4,
    selfId: 'p1',
    room: 'r',
    participants: [{ ...participant, role: 'king' }],
    lobby: 0,
    meeting: null,
  },
  'participant-joined': { type: 'participant-joined', participant: { ...participant, name: '' } },
  'participant-updated': { type: 'participant-updated', id: 'p1', changes: { camera: 1 } },
  'participant-left': { type: 'participant-left', id: 'p1', reason: 'vanished' },
  'participant-moderated': { type: 'participant-moderated', id: 'p1', by: 'p2', action: 'banish' },
  'participant-moderated by nobody': { type: 'participant-moderated', id: 'p1', action: 'mute' },
  'lobby-count': { type: 'lobby-count', count: -1 },
  'meeting-started': { type: 'meeting-started', meeting: { id: 'm1' } },
  'meeting-ended': { type: 'meeting-ended' },
  'direct-message': { type: 'direct-message', from: 'p1' },
  error: { type: 'error', code: 'teapot', message: 'no' },
  pong: { type: 'pong-pong' },
  'agent state': { type: 'participant-updated', id: 'ai', changes: { aiState: 'dreaming' } },
  'ai-caption': { type: 'ai-caption', id: 'ai', text: 'Hello' },
  'ai-talker': { type: 'ai-talker' },
};

describe('protocol', () => {
  for (const [name, message] of Object.entries(validClient)) {
    it(`accepts a valid client ${name}`, () => {
      expect(parseClientMessage(JSON.stringify(message)).ok).to.be.true;
    });
  }
  for (const [name, message] of Object.entries(invalidClient)) {
    it(`rejects an invalid client ${name}`, () => {
      const result = parseClientMessage(JSON.stringify(message));
      expect(result.ok).to.be.false;
    });
  }
  for (const [name, message] of Object.entries(validServer)) {
    it(`accepts a valid server ${name}`, () => {
      expect(parseServerMessage(JSON.stringify(message)).ok).to.be.true;
    });
  }
  for (const [name, message] of Object.entries(invalidServer)) {
    it(`rejects an invalid server ${name}`, () => {
      expect(parseServerMessage(JSON.stringify(message)).ok).to.be.false;
    });
  }

  it('names the message type and the field when rejecting', () => {
    const result = parseClientMessage('{"type":"update","changes":{"microphone":"yes"}}');
    expect(result).to.deep.include({ ok: false, type: 'update' });
    expect(!result.ok && result.reason).to.contain('changes.microphone');
  });

  it('rejects text that is not JSON without throwing', () => {
    expect(parseServerMessage('{nope')).to.deep.equal({ ok: false, reason: 'Message is not valid JSON' });
  });

  it('trims display names', () => {
    const result = parseServerMessage(
      JSON.stringify({ type: 'participant-joined', participant: { ...participant, name: '  Ann ' } }),
    );
    expect(
      result.ok && result.message.type === 'participant-joined' && result.message.participant.name,
    ).to.equal('Ann');
  });

  describe('display names', () => {
    const refused: Record<string, string> = {
      'a right-to-left override': 'Ann\u202Etxt.exe',
      'a left-to-right isolate': '\u2066Bob',
      'a right-to-left mark': 'Cy\u200f',
      'only zero-width characters': '\u200b\u200c\u200d\u2060\ufeff',
      'only a Hangul filler': '\u3164',
      'only combining marks': '\u0301\u0308',
      'only spaces of other kinds': '\u00a0\u2003\u3000',
      'a control character': 'Ann\u0007',
    };
    for (const [what, name] of Object.entries(refused)) {
      it(`refuses a name with ${what}`, () => {
        expect(displayName.safeParse(name).success).to.be.false;
      });
    }
    const accepted = ['Ann', 'Zoë', 'محمد', 'שרה', '李雷', '👩‍🚀 Ada', 'O\u2019Brien', 'Ana\u00a0María'];
    for (const name of accepted) {
      it(`accepts ${name}`, () => {
        expect(displayName.safeParse(name)).to.deep.include({ success: true, data: name });
      });
    }
  });

  describe('picture URLs', () => {
    const long = (length: number) => {
      const start = 'https://cdn.example/';
      return start + 'a'.repeat(length - start.length);
    };
    const accepted = [
      'https://cdn.example/ann.png',
      'HTTPS://CDN.example/ann.png?size=96',
      'http://127.0.0.1:8080/ann.png',
      'http://localhost/ann.png',
      'http://[::1]:9000/ann.png',
      'https://localhost/ann.png',
      long(PICTURE_URL_MAX_LENGTH),
    ];
    for (const url of accepted) {
      it(`accepts ${url.slice(0, 60)}`, () => {
        expect(pictureUrl.safeParse(url)).to.deep.include({ success: true, data: url });
      });
    }
    const refused: Record<string, string> = {
      'javascript:': 'javascript:alert(1)',
      'data:': 'data:image/png;base64,iVBORw0KGgo=',
      'http: on a public host': 'http://example.com/ann.png',
      'http: on another loopback-looking host': 'http://127.0.0.1.example.com/ann.png',
      'a user name and password': 'https://ann:secret@cdn.example/ann.png',
      'a user name alone': 'https://ann@cdn.example/ann.png',
      'another scheme': 'ftp://cdn.example/ann.png',
      'no URL at all': 'ann.png',
      'one character too many': long(PICTURE_URL_MAX_LENGTH + 1),
    };
    for (const [what, url] of Object.entries(refused)) {
      it(`refuses ${what}`, () => {
        expect(pictureUrl.safeParse(url).success).to.be.false;
      });
    }

    it('travels with a participant, and a bad one refuses the message', () => {
      const joined = (picture: string) =>
        parseServerMessage(
          JSON.stringify({ type: 'participant-joined', participant: { ...participant, picture } }),
        );
      const good = joined('https://cdn.example/ann.png');
      expect(
        good.ok && good.message.type === 'participant-joined' && good.message.participant.picture,
      ).to.equal('https://cdn.example/ann.png');
      const bad = joined('javascript:alert(1)');
      expect(!bad.ok && bad.reason).to.contain('participant.picture');
    });
  });

  it('keeps the heartbeat frames parseable', () => {
    expect(parseClientMessage(PING_FRAME).ok).to.be.true;
    expect(parseServerMessage(PONG_FRAME).ok).to.be.true;
  });
});
