/**
 * A TCP proxy on 127.0.0.1 that tests put between a visitor and the Worker
 * to meet a bad network for real: `cut()` drops every connection (a Wi-Fi
 * blip: resets, refused reconnects until `restore()`), `blackhole()` keeps
 * connections open but lets nothing through (a path that silently drops
 * packets, a laptop waking up), `restore()` lets traffic flow again.
 */
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

export type ProxyMode = 'open' | 'cut' | 'blackhole';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: use it instead of the target's URL. */
  readonly url: string;
  readonly port: number;
  readonly mode: ProxyMode;
  /** Connections accepted so far (reconnects show up here). */
  readonly accepted: number;
  cut(): void;
  blackhole(): void;
  restore(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

export async function startTcpProxy(targetPort: number, port = 0): Promise<TcpProxy> {
  let mode: ProxyMode = 'open';
  let accepted = 0;
  const pairs = new Set<Pair>();

  const destroy = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const server: Server = createServer((client) => {
    if (mode === 'cut') return void client.destroy();
    accepted += 1;
    const upstream = new Socket();
    const pair = { client, upstream };
    pairs.add(pair);
    upstream.connect(targetPort, '127.0.0.1');
    // Data flows only while open; in a blackhole it is read and thrown away, like a lossy path.
    client.on('data', (chunk) => {
      if (mode === 'open') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (mode === 'open') client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => destroy(pair));
      socket.on('close', () => destroy(pair));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actualPort = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    cut() {
      mode = 'cut';
      for (const pair of [...pairs]) destroy(pair);
    },
    blackhole() {
      mode = 'blackhole';
    },
    restore() {
      mode = 'open';
    },
    async close() {
      for (const pair of [...pairs]) destroy(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
