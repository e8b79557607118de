/** The body of every HTTP error the Worker returns: `{error: {code, message}}`. */
export function jsonError(status: number, code: string, message: string, headers?: HeadersInit): Response {
  return Response.json({ error: { code, message } }, { status, headers });
}
