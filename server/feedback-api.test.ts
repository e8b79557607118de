/**
 * The feedback API and the meeting history, on a Worker with no
 * FEEDBACK_URL: feedback is kept in the room, bad input gets a typed answer,
 * and nobody else's feedback is affected.
 */
import { describe, expect, it } from 'vitest';
import { feedback } from '../src/protocol/index.js';
import { postFeedback } from './local/dev/feedback-client.js';
import type { RoomSocket } from './local/dev/room-socket.js';
import type { MeetingHistory } from './services/history.js';
import { connect, freshRoom, joined, useWorker } from './test-support.js';

const worker = useWorker();

const diagnostics: feedback.Diagnostics = {
  browser: 'Mozilla/5.0 test',
  meetingId: null,
  callsSessionId: 'abc123',
  room: 'connected',
  media: 'connected',
  errors: [{ at: 1, code: 'media-failed', message: 'ICE failed' }],
  tracks: [{ direction: 'inbound', kind: 'video', mid: '1', width: 640, height: 360, bitrateKbps: 800 }],
};

const post = (room: string, socket: RoomSocket | null, body: unknown, key?: string) =>
  postFeedback(worker().url, room, socket, body, key);

async function history(room: string, query = '') {
  const response = await fetch(`${worker().url}/api/rooms/${room}/meetings${query}`);
  return { status: response.status, body: (await response.json()) as MeetingHistory };
}

/** A meeting `socket` was in, and left: its id. */
async function meetingLeft(room: string, name: string) {
  const { socket } = await joined(worker, room, name);
  const started = socket.received.find((m) => m.type === 'meeting-started');
  if (started?.type !== 'meeting-started') throw new Error('no meeting started');
  socket.send({ type: 'leave' });
  await socket.next('meeting-ended');
  return { socket, meetingId: started.meeting.id };
}

describe('feedback', () => {
  it('keeps a rating and a problem report with their meeting, for the history', async () => {
    const room = freshRoom('feedback');
    const { socket, meetingId } = await meetingLeft(room, 'Ann');
    const rated = await post(room, socket, {
      kind: 'rating',
      meetingId,
      rating: 5,
      comment: '  Great call ',
    });
    expect(rated).toMatchObject({ status: 201, id: expect.stringMatching(/^msg_/) });
    const reported = await post(room, socket, { kind: 'problem', text: 'Echo', diagnostics });
    expect(reported.status).toBe(201);

    const { body } = await history(room);
    expect(body.meetings).toHaveLength(1);
    expect(body.meetings[0]).toMatchObject({
      id: meetingId,
      peakParticipants: 1,
      participantCount: 1,
      durationSeconds: expect.any(Number),
      feedback: {
        ratings: [{ rating: 5, comment: 'Great call', participant: { id: socket.selfId, name: 'Ann' } }],
        problems: [{ id: reported.id, text: 'Echo', diagnostics }],
      },
    });
  });

  it('takes one rating per meeting, only for a meeting this visitor was in', async () => {
    const room = freshRoom('once');
    const { socket, meetingId } = await meetingLeft(room, 'Bo');
    expect((await post(room, socket, { kind: 'rating', meetingId, rating: 3 })).status).toBe(201);
    expect(await post(room, socket, { kind: 'rating', meetingId, rating: 1 })).toMatchObject({
      status: 409,
      code: 'already-rated',
    });
    // Someone who was never in it (in the lobby all along) cannot rate it.
    const lurker = await connect(worker, room);
    await lurker.next('snapshot');
    expect(await post(room, lurker, { kind: 'rating', meetingId, rating: 1 })).toMatchObject({
      status: 403,
      code: 'not-in-meeting',
    });
    const { body } = await history(room);
    expect(body.meetings[0]!.feedback.ratings.map((r) => r.rating)).toEqual([3]);
  });

  it('takes a rating after a host ended the meeting and closed every connection, with that key only', async () => {
    const room = freshRoom('ended');
    const { socket: host } = await joined(worker, room, 'Hal');
    const { socket: guest } = await joined(worker, room, 'Gus');
    const started = host.received.find((m) => m.type === 'meeting-started');
    if (started?.type !== 'meeting-started') throw new Error('no meeting started');
    host.send({ type: 'end-meeting' });
    await Promise.all([host.closed, guest.closed]);

    const meetingId = started.meeting.id;
    expect(await post(room, guest, { kind: 'rating', meetingId, rating: 4 })).toMatchObject({ status: 201 });
    expect(await post(room, guest, { kind: 'rating', meetingId, rating: 4 })).toMatchObject({
      status: 409,
      code: 'already-rated',
    });
    // This participant's id with a made-up key: nobody.
    expect((await post(room, guest, { kind: 'rating', meetingId, rating: 1 }, 'f'.repeat(32))).status).toBe(
      401,
    );
    const { body } = await history(room);
    expect(body.meetings[0]!.feedback.ratings).toEqual([
      expect.objectContaining({ rating: 4, participant: { id: guest.selfId, name: 'Gus' } }),
    ]);
  });

  it('refuses malformed, oversized and unauthenticated feedback with typed errors', async () => {
    const room = freshRoom('bad');
    const { socket, meetingId } = await meetingLeft(room, 'Cy');
    expect(await post(room, socket, '{not json')).toMatchObject({ status: 400, code: 'invalid-request' });
    for (const body of [
      { kind: 'rating', meetingId, rating: 6 },
      { kind: 'rating', meetingId, rating: '5' },
      { kind: 'rating', meetingId, rating: 2.5 },
      { kind: 'problem', text: '   ', diagnostics },
      { kind: 'problem', text: 'x', diagnostics: { ...diagnostics, tracks: 'all' } },
      { kind: 'rating', meetingId, rating: 4, comment: 'x'.repeat(feedback.RATING_COMMENT_MAX_LENGTH + 1) },
      { kind: 'praise', meetingId },
    ]) {
      expect(await post(room, socket, body), JSON.stringify(body).slice(0, 80)).toMatchObject({
        status: 400,
        code: 'invalid-request',
      });
    }
    const huge = { kind: 'problem', text: 'x', diagnostics: { ...diagnostics, browser: 'y'.repeat(40_000) } };
    expect(await post(room, socket, huge)).toMatchObject({ status: 413, code: 'too-large' });
    expect(await post(room, null, { kind: 'rating', meetingId, rating: 1 })).toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
    expect((await post(room, socket, { kind: 'rating', meetingId, rating: 1 }, '0'.repeat(32))).status).toBe(
      401,
    );
    // None of it was kept; the visitor can still rate.
    expect((await post(room, socket, { kind: 'rating', meetingId, rating: 2 })).status).toBe(201);
    const { body } = await history(room);
    expect(body.meetings[0]!.feedback).toMatchObject({ ratings: [{ rating: 2 }], problems: [] });
  });

  it('limits a flood from one connection with 429 and Retry-After, and nobody else', async () => {
    const room = freshRoom('flood');
    const { socket } = await meetingLeft(room, 'Di');
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        post(room, socket, { kind: 'problem', text: `#${i}`, diagnostics }),
      ),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(5);
    expect(limited).toHaveLength(7);
    expect(limited[0]).toMatchObject({ code: 'feedback-rate-limited' });
    expect(Number(limited[0]!.headers.get('Retry-After'))).toBeGreaterThan(0);
    const other = await connect(worker, room);
    await other.next('snapshot');
    expect((await post(room, other, { kind: 'problem', text: 'me too', diagnostics })).status).toBe(201);
  });
});

describe('meeting history', () => {
  it('pages through meetings newest first', async () => {
    const room = freshRoom('history');
    const ids: string[] = [];
    for (const name of ['A', 'B', 'C', 'D', 'E']) ids.push((await meetingLeft(room, name)).meetingId);
    const first = await history(room, '?limit=2');
    expect(first.body.meetings.map((m) => m.id)).toEqual([ids[4], ids[3]]);
    const second = await history(room, `?limit=2&before=${first.body.next}`);
    expect(second.body.meetings.map((m) => m.id)).toEqual([ids[2], ids[1]]);
    const last = await history(room, `?limit=2&before=${second.body.next}`);
    expect(last.body.meetings.map((m) => m.id)).toEqual([ids[0]]);
    expect(last.body.next).toBeNull();
    for (const query of ['?limit=0', '?limit=101', '?limit=x', '?before=-1']) {
      expect((await history(room, query)).status, query).toBe(400);
    }
  });

  it('is empty for a room that never met', async () => {
    const { status, body } = await history(freshRoom('never'));
    expect(status).toBe(200);
    expect(body).toEqual({ meetings: [], next: null, deadLetters: [] });
  });
});
