/**
 * The whole delivery path under `wrangler dev`: rooms write webhook events
 * and feedback, the local queue carries them, its consumer posts them to a
 * receiver on 127.0.0.1 that fails on purpose, and what fails for good ends
 * up with its room, where a host reads it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJoinToken } from '../auth/join-token.js';
import { NO_DIAGNOSTICS, postFeedback } from '../local/dev/feedback-client.js';
import { RoomSocket } from '../local/dev/room-socket.js';
import {
  startWebhookReceiver,
  type ReceivedDelivery,
  type WebhookReceiver,
} from '../local/dev/webhook-receiver.js';
import { startLocalWorker, type LocalWorker } from '../local/dev/worker.js';
import type { MeetingHistory } from './history.js';

const SECRET = `whsec_${btoa('meetkit-delivery-test-secret-32b')}`;
/** The Worker stops waiting for the receiver after this long. */
const TIMEOUT_MS = 400;

interface Event {
  type: string;
  timestamp: string;
  data: { room: string; meetingId: string | null; sequence?: number; participant?: { id: string } };
}
const eventOf = (delivery: ReceivedDelivery) => delivery.body as Event;

/**
 * A meeting of `people` in `room`: everyone joins, everyone rates it after
 * leaving, the first `problems` also report a problem. Returns the feedback ids.
 */
async function meetingWithFeedback(worker: LocalWorker, room: string, people: number, problems: number) {
  const sockets = await Promise.all(Array.from({ length: people }, () => RoomSocket.open(worker.url, room)));
  try {
    for (const [i, socket] of sockets.entries()) await socket.join(`P${i}`);
    const started = sockets[0]!.received.find((m) => m.type === 'meeting-started');
    if (started?.type !== 'meeting-started') throw new Error('the first to join saw no meeting start');
    const meetingId = started.meeting.id;
    const ids: string[] = [];
    for (const [i, socket] of sockets.entries()) {
      socket.send({ type: 'leave' });
      await socket.next('participant-left', (m) => m.id === socket.selfId);
      const rated = await postFeedback(worker.url, room, socket, {
        kind: 'rating',
        meetingId,
        rating: 1 + (i % 5),
      });
      expect(rated.status).toBe(201);
      ids.push(rated.id!);
      if (i < problems) {
        const reported = await postFeedback(worker.url, room, socket, {
          kind: 'problem',
          text: `P${i}: echo`,
          diagnostics: NO_DIAGNOSTICS,
        });
        expect(reported.status).toBe(201);
        ids.push(reported.id!);
      }
    }
    return { meetingId, feedbackIds: ids };
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}

describe('deliveries to a receiver that fails half of the time', () => {
  let receiver: WebhookReceiver;
  let worker: LocalWorker;
  beforeAll(async () => {
    // Every other request fails, rotating through the ways a receiver fails.
    const failures = ['status-500', 'slow', 'reset', 'status-503'] as const;
    receiver = await startWebhookReceiver({
      secret: SECRET,
      slowMs: TIMEOUT_MS * 3,
      fail: (n) => (n % 2 === 1 ? failures[((n - 1) / 2) % failures.length]! : null),
    });
    worker = await startLocalWorker({
      vars: {
        WEBHOOK_URL: `${receiver.url}/events`,
        FEEDBACK_URL: `${receiver.url}/feedback`,
        WEBHOOK_SECRET: SECRET,
        DELIVERY_TIMEOUT_MS: String(TIMEOUT_MS),
        DELIVERY_RETRY_SECONDS: '0',
      },
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
  });

  it('delivers 200 events and feedback messages once each by their id, each meeting in order', async () => {
    // 10 meetings of 5: 12 events each (started, 5 joined, 5 left, ended) and 8 feedback messages.
    const rooms = Array.from({ length: 10 }, (_, i) => `flaky-${process.pid}-${i}`);
    const meetings = await Promise.all(rooms.map((room) => meetingWithFeedback(worker, room, 5, 3)));
    // A stretch with nobody listening: connections are refused, then it comes back.
    await receiver.stopListening();
    await new Promise<void>((resolve) => setTimeout(resolve, 1_500));
    await receiver.listen();
    await receiver.waitFor(200, 120_000);

    const { delivered } = receiver;
    expect(delivered).toHaveLength(200);
    expect(new Set(delivered.map((d) => d.id)).size).toBe(200);
    expect(delivered.every((d) => d.verified)).toBe(true);
    // Failures happened, and were retried: more requests than messages, and some copies.
    expect(receiver.requests()).toBeGreaterThanOrEqual(350);
    expect(delivered.some((d) => d.copies > 1)).toBe(true);

    const feedbackIds = new Set(meetings.flatMap((m) => m.feedbackIds));
    expect(
      delivered
        .filter((d) => d.path === '/feedback')
        .map((d) => d.id)
        .sort(),
    ).toEqual([...feedbackIds].sort());
    for (const { meetingId } of meetings) {
      const events = delivered
        .filter((d) => d.path === '/events' && eventOf(d).data.meetingId === meetingId)
        .map(eventOf);
      expect(events.map((e) => e.data.sequence)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(events[0]!.type).toBe('meeting.started');
      expect(events.at(-1)!.type).toBe('meeting.ended');
      for (const joined of events.filter((e) => e.type === 'participant.joined')) {
        const left = events.findIndex(
          (e) => e.type === 'participant.left' && e.data.participant?.id === joined.data.participant?.id,
        );
        expect(left).toBeGreaterThan(events.indexOf(joined));
      }
      expect(events.at(-1)!.data).toMatchObject({ peakParticipants: 5, participantCount: 5 });
    }
  }, 150_000);
});

describe('a receiver that is down for good', () => {
  let receiver: WebhookReceiver;
  let worker: LocalWorker;
  const JOIN_SECRET = 'queue-delivery-test-join-secret-long-enough';
  beforeAll(async () => {
    // Events meet a receiver that stays busy; feedback a port where nobody listens.
    receiver = await startWebhookReceiver({ fail: () => 'status-503' });
    worker = await startLocalWorker({
      vars: {
        JOIN_SECRET,
        WEBHOOK_URL: `${receiver.url}/events`,
        FEEDBACK_URL: 'http://127.0.0.1:9/feedback',
        DELIVERY_TIMEOUT_MS: String(TIMEOUT_MS),
        DELIVERY_RETRY_SECONDS: '0',
        DELIVERY_MAX_ATTEMPTS: '3',
      },
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
  });

  it('files every event as a dead letter after the last attempt, for hosts to see', async () => {
    const room = `dead-${process.pid}`;
    const hostToken = await signJoinToken({ room, name: 'Hana', role: 'host' }, JOIN_SECRET, 600);
    const guestToken = await signJoinToken({ room, name: 'Gus', role: 'guest' }, JOIN_SECRET, 600);
    const host = await RoomSocket.open(worker.url, room, { token: hostToken });
    await host.join('Hana');
    host.send({ type: 'leave' });
    await host.next('meeting-ended');
    const history = async (token: string) => {
      const response = await fetch(`${worker.url}/api/rooms/${room}/meetings`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: (await response.json()) as MeetingHistory };
    };
    // started, joined, left, ended: each tried 3 times, all refused with 503.
    let dead: MeetingHistory['deadLetters'] = [];
    await expect
      .poll(async () => (dead = (await history(hostToken)).body.deadLetters).length, { timeout: 30_000 })
      .toBe(4);
    expect(dead.map((d) => d.type).sort()).toEqual(
      ['meeting.ended', 'meeting.started', 'participant.joined', 'participant.left'].sort(),
    );
    expect(dead.every((d) => d.attempts === 3 && d.reason.includes('503'))).toBe(true);
    // Each tried 3 times and no more.
    expect(receiver.requests()).toBe(12);
    // Feedback refused by a closed port is tried 3 times, then filed too; it stays in the history.
    const rated = await postFeedback(worker.url, room, host, {
      kind: 'rating',
      meetingId: dead[0]!.chain!,
      rating: 4,
    });
    expect(rated.status).toBe(201);
    await expect
      .poll(async () => (await history(hostToken)).body.deadLetters.length, { timeout: 30_000 })
      .toBe(5);
    const { body } = await history(hostToken);
    expect(body.deadLetters[0]).toMatchObject({ id: rated.id, type: 'feedback.rating', attempts: 3 });
    expect(body.meetings[0]!.feedback.ratings).toEqual([
      expect.objectContaining({ rating: 4, participant: expect.objectContaining({ name: 'Hana' }) }),
    ]);
    // Only hosts read it.
    expect((await history(guestToken)).status).toBe(403);
    host.terminate();
  }, 60_000);
});

describe('a Worker restart while deliveries wait', () => {
  it('loses nothing: what waited before is delivered after, in order, and the room ends the meeting on its own', async () => {
    const persistTo = mkdtempSync(join(tmpdir(), 'meetkit-deliveries-restart-'));
    // Down at first: the meeting's first event waits in the queue, the next in the room's outbox.
    const receiver = await startWebhookReceiver({ fail: () => 'status-503' });
    const vars = {
      WEBHOOK_URL: `${receiver.url}/events`,
      DELIVERY_TIMEOUT_MS: String(TIMEOUT_MS),
      DELIVERY_RETRY_SECONDS: '1',
      DELIVERY_MAX_ATTEMPTS: '100',
      // A message handed over and lost (the local queue keeps none across a restart) goes again soon.
      DELIVERY_RESEND_AFTER_MS: '2000',
      RESUME_GRACE_MS: '1000',
    };
    let worker = await startLocalWorker({ persistTo, vars });
    const room = `restart-${process.pid}`;
    try {
      const socket = await RoomSocket.open(worker.url, room);
      await socket.join('Ann');
      await expect.poll(() => receiver.requests(), { timeout: 10_000 }).toBeGreaterThan(0);

      // The Worker dies with Ann in the meeting, and she never comes back.
      await worker.stop();
      socket.terminate();
      receiver.setFailure(null);
      worker = await startLocalWorker({ persistTo, port: worker.port, vars });
      // Nobody reaches the room again: its alarm alone ends Ann's wait, the meeting, and the deliveries.
      await receiver.waitFor(4, 30_000);
      const events = receiver.delivered.map(eventOf);
      expect(events.map((e) => e.type)).toEqual([
        'meeting.started',
        'participant.joined',
        'participant.left',
        'meeting.ended',
      ]);
      expect(events.map((e) => e.data.room)).toEqual([room, room, room, room]);
      expect(events.map((e) => e.data.sequence)).toEqual([1, 2, 3, 4]);
    } finally {
      await worker.stop();
      await receiver.close();
      rmSync(persistTo, { recursive: true, force: true });
    }
  }, 60_000);
});
