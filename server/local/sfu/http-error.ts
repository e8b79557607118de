/** A Calls API error answer (status, `errorCode`, `errorDescription`), and request parsing that gives one. */
import * as z from 'zod/mini';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

/** Parses a request body; a bad one is 400 `invalid_params`, naming what is wrong. */
export function parse<T>(schema: z.ZodMiniType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) throw new HttpError(400, 'invalid_params', z.prettifyError(result.error));
  return result.data;
}
