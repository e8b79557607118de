/**
 * Feedback as a visitor's page sends it (`POST /api/rooms/<room>/feedback`
 * with the room connection's key), for tests and the delivery benchmark.
 */
import type { feedback } from '../../../src/protocol/index.js';
import type { RoomSocket } from './room-socket.js';

/** Diagnostics with nothing in them: valid, and as small as a report gets. */
export const NO_DIAGNOSTICS: feedback.Diagnostics = {
  browser: 'test',
  meetingId: null,
  callsSessionId: null,
  room: 'connected',
  media: 'none',
  errors: [],
  tracks: [],
};

export interface FeedbackAnswer {
  status: number;
  id: string | undefined;
  code: string | undefined;
  headers: Headers;
}

/**
 * Posts `body` (any JSON, or a string sent as is) as `from`'s connection, with
 * its media key unless `key` says otherwise; null sends no credentials.
 */
export async function postFeedback(
  serverUrl: string,
  room: string,
  from: RoomSocket | null,
  body: unknown,
  key = from?.snapshot.mediaKey,
): Promise<FeedbackAnswer> {
  const response = await fetch(`${serverUrl}/api/rooms/${room}/feedback`, {
    method: 'POST',
    headers: from ? { Authorization: `Bearer ${from.selfId}.${key}` } : {},
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = (await response.json()) as { id?: string; error?: { code: string } };
  return { status: response.status, id: json.id, code: json.error?.code, headers: response.headers };
}
