/**
 * One request to a room API that authenticates with this connection's key
 * (the media API, the feedback API): JSON over `fetch`, never with cookies,
 * the answer parsed with its schema, every failure thrown as the API's own
 * error with a message a person can read.
 */
import type * as z from 'zod/mini';
import { media } from '../protocol/index.js';

/** This connection in the room: `Authorization: Bearer <participantId>.<key>`. */
export interface ApiCredentials {
  participantId: string;
  key: string;
}

/** How an API's error is made: the HTTP status (0: no answer), its code and message, `Retry-After` if said. */
export type ApiErrorClass = new (
  status: number,
  code: string,
  message: string,
  retryAfterMs?: number,
) => Error;

export async function postWithKey<T>(
  url: URL,
  auth: ApiCredentials | null,
  body: unknown,
  schema: z.ZodMiniType<T>,
  Failure: ApiErrorClass,
): Promise<T> {
  if (!auth) throw new Failure(401, 'not-connected', 'Not connected to the room yet');
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      credentials: 'omit',
      headers: {
        authorization: `Bearer ${auth.participantId}.${auth.key}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Failure(0, 'network', 'Cannot reach the meeting server');
  }
  const json: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    // Every room API fails alike: `{error: {code, message}}`.
    const failure = media.mediaErrorResponse.safeParse(json);
    const retryAfter = Number(response.headers.get('retry-after') ?? '');
    throw failure.success
      ? new Failure(
          response.status,
          failure.data.error.code,
          failure.data.error.message,
          retryAfter > 0 ? Math.min(retryAfter, 60) * 1000 : undefined,
        )
      : new Failure(response.status, 'http', `The meeting server answered ${response.status}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new Failure(response.status, 'invalid-response', 'Unexpected answer from the meeting server');
  return parsed.data;
}
