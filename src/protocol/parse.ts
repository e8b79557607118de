import * as z from 'zod/mini';
import { clientMessage, type ClientMessage } from './client-messages.js';
import { serverMessage, type ServerMessage } from './server-messages.js';

export type ParseResult<T> = { ok: true; message: T } | { ok: false; reason: string; type?: string };

function parseFrame<T>(schema: z.ZodMiniType<T>, frame: string): ParseResult<T> {
  let data: unknown;
  try {
    data = JSON.parse(frame);
  } catch {
    return { ok: false, reason: 'Message is not valid JSON' };
  }
  const type =
    typeof data === 'object' && data !== null && typeof (data as { type?: unknown }).type === 'string'
      ? (data as { type: string }).type
      : undefined;
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, message: result.data };
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  return { ok: false, reason: `${issue?.message ?? 'Invalid message'}${where}`, type };
}

/** Parse one text frame from a browser. Never throws. */
export const parseClientMessage = (frame: string): ParseResult<ClientMessage> =>
  parseFrame(clientMessage, frame);

/** Parse one text frame from the room server. Never throws. */
export const parseServerMessage = (frame: string): ParseResult<ServerMessage> =>
  parseFrame(serverMessage, frame);
