/**
 * The browser's side of the room media API (`src/protocol/media.ts`): JSON
 * over `fetch`, never with cookies, every answer parsed with its schema.
 */
import type * as z from 'zod/mini';
import { media } from '../protocol/index.js';

/** A media API request that failed, with a message a person can read. */
export class MediaApiError extends Error {
  override readonly name = 'MediaApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The service was busy or unreachable: the same request may work in a moment. */
  get retryable(): boolean {
    if (this.code === 'media-unavailable') return false; // Not configured: asking again will not help.
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export interface MediaApiCredentials {
  participantId: string;
  key: string;
}

export interface MediaApi {
  session(): Promise<z.infer<typeof media.sessionResponse>>;
  publish(body: z.infer<typeof media.publishRequest>): Promise<z.infer<typeof media.publishResponse>>;
  pull(body: z.infer<typeof media.pullRequest>): Promise<z.infer<typeof media.pullResponse>>;
  renegotiate(body: z.infer<typeof media.renegotiateRequest>): Promise<void>;
  close(body: z.infer<typeof media.closeRequest>): Promise<z.infer<typeof media.closeResponse>>;
}

export function createMediaApi(
  server: string,
  room: string,
  credentials: () => MediaApiCredentials | null,
): MediaApi {
  const base = new URL(`/api/rooms/${encodeURIComponent(room)}/media/`, server);

  async function call<T>(
    operation: media.MediaOperation,
    schema: z.ZodMiniType<T>,
    body: unknown = {},
  ): Promise<T> {
    const auth = credentials();
    if (!auth) throw new MediaApiError(401, 'not-connected', 'Not connected to the room yet');
    let response: Response;
    try {
      response = await fetch(new URL(operation, base), {
        method: 'POST',
        credentials: 'omit',
        headers: {
          authorization: `Bearer ${auth.participantId}.${auth.key}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
    } catch {
      throw new MediaApiError(0, 'network', 'Cannot reach the meeting server');
    }
    const json: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const failure = media.mediaErrorResponse.safeParse(json);
      throw failure.success
        ? new MediaApiError(response.status, failure.data.error.code, failure.data.error.message)
        : new MediaApiError(response.status, 'http', `The meeting server answered ${response.status}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new MediaApiError(
        response.status,
        'invalid-response',
        'Unexpected answer from the meeting server',
      );
    return parsed.data;
  }

  return {
    session: () => call('session', media.sessionResponse),
    publish: (body) => call('publish', media.publishResponse, body),
    pull: (body) => call('pull', media.pullResponse, body),
    renegotiate: async (body) => void (await call('renegotiate', media.emptyResponse, body)),
    close: (body) => call('close', media.closeResponse, body),
  };
}
