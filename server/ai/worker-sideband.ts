/**
 * The sideband as a Worker opens it (CALLS-API.md, "Server-side control"):
 * kept apart from `agent.ts` because `Response#webSocket` exists only in
 * workerd; Node tests open it with the `ws` package instead.
 */
import { SidebandOpenError, type OpenSideband } from './agent.js';

/**
 * The Worker's way to open the sideband: `fetch` the `https://` URL with
 * `Upgrade: websocket`, then accept the socket it answers with.
 */
export function workerSideband(doFetch: typeof fetch = (input, init) => fetch(input, init)): OpenSideband {
  return async ({ request }, handlers) => {
    const response = await doFetch(request.url, { headers: request.headers });
    const socket = response.webSocket;
    if (!socket)
      throw new SidebandOpenError(response.status, `OpenAI refused the sideband: ${response.status}`);
    socket.accept();
    socket.addEventListener('message', (event) => {
      if (typeof event.data === 'string') handlers.message(event.data);
    });
    socket.addEventListener('close', (event) => handlers.closed(`${event.code} ${event.reason}`.trim()));
    socket.addEventListener('error', () => handlers.closed('error'));
    return { send: (frame) => socket.send(frame), close: () => socket.close(1000, 'agent left') };
  };
}
