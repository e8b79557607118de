/**
 * A request's (or a response's) body as text, or null when it is larger than `maxBytes`. A
 * declared Content-Length over the limit is refused before anything is read;
 * a body without one is counted as it arrives and cancelled at the limit. So
 * an oversized body never sits in memory.
 */
export async function readLimitedText(
  request: Pick<Request, 'headers' | 'body'>,
  maxBytes: number,
): Promise<string | null> {
  if (Number(request.headers.get('Content-Length')) > maxBytes) {
    // A client waiting for 100 Continue is told no without ever sending the
    // body. A body already on its way is left for the runtime to discard:
    // cancelling it mid-flight drops the connection, and wrangler dev's proxy
    // then fails the next request it sends on it.
    if (/100-continue/i.test(request.headers.get('Expect') ?? '')) discard(request.body);
    return null;
  }
  if (!request.body) return '';
  // A request body is always bytes; workers-types leaves its chunks untyped.
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      discard(reader);
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** Tells the runtime the rest of the body is not wanted (it stops receiving it). */
function discard(body: { cancel(): Promise<void> } | null): void {
  body?.cancel().catch(() => undefined);
}
