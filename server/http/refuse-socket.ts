import type { ErrorCode, ServerMessage } from '../../src/protocol/index.js';

/** 1008, policy violation: the client must not reconnect (see `FATAL_ERROR_CODES`). */
const CLOSE_POLICY = 1008;

/**
 * Accepts a WebSocket only to say why it cannot stay, then closes it (1008):
 * a browser sees no reason in a refused upgrade, the widget shows this one.
 */
export function refuseSocket(code: ErrorCode, message: string): Response {
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  server.send(JSON.stringify({ type: 'error', code, message } satisfies ServerMessage));
  server.close(CLOSE_POLICY, message.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}
