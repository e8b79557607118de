/**
 * The attacker of the flood benchmark, in a process of its own (started with
 * `nice`, so that its CPU is not taken from the room or the measuring
 * clients: a real attacker's machines are not the server's). It opens the
 * connections and joins, says how many got in, floods on "go" and stops on
 * "stop". Arguments: a JSON `AttackPlan`.
 */
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { PING_FRAME, PROTOCOL_VERSION } from '../src/protocol/index.js';

export interface AttackPlan {
  serverUrl: string;
  room: string;
  connections: number;
  flooders: number;
  /** Changes per second per flooder. */
  rate: number;
  /** Spread over this many loopback addresses (127.0.1.x). */
  addresses: number;
}

interface Bot {
  ws: WebSocket;
  id: string;
}

function connect(plan: AttackPlan, index: number): Promise<Bot | { refused: string }> {
  return new Promise((resolve) => {
    const url = new URL(`/parties/room/${plan.room}`, plan.serverUrl.replace(/^http/, 'ws'));
    url.searchParams.set('v', String(PROTOCOL_VERSION));
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      localAddress: `127.0.1.${(index % plan.addresses) + 1}`,
    });
    const bot: Bot = { ws, id: '' };
    const heartbeat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(PING_FRAME), 5_000);
    ws.on('close', () => clearInterval(heartbeat));
    ws.on('error', () => resolve({ refused: 'network' }));
    const onMessage = (raw: Buffer) => {
      const text = raw.toString();
      if (text.startsWith('{"type":"error"') && !bot.id) {
        return resolve({ refused: (JSON.parse(text) as { code: string }).code });
      }
      if (text.startsWith('{"type":"snapshot"')) {
        bot.id = (JSON.parse(text) as { selfId: string }).selfId;
        ws.send(JSON.stringify({ type: 'join', name: `Bot ${index}` }));
      } else if (
        bot.id &&
        text.startsWith('{"type":"participant-joined"') &&
        text.includes(`"id":"${bot.id}"`)
      ) {
        // In: from now on what arrives is read by nobody.
        ws.off('message', onMessage);
        ws.on('message', () => {});
        resolve(bot);
      }
    };
    ws.on('message', onMessage);
  });
}

const plan = JSON.parse(process.argv[2]!) as AttackPlan;
const bots: Bot[] = [];
const refused: Record<string, number> = {};
for (let i = 0; i < plan.connections; i += 25) {
  const made = await Promise.all(
    Array.from({ length: Math.min(25, plan.connections - i) }, (_, k) => connect(plan, i + k)),
  );
  for (const bot of made) {
    if ('ws' in bot) bots.push(bot);
    else refused[bot.refused] = (refused[bot.refused] ?? 0) + 1;
  }
}
const flooders = bots.slice(0, plan.flooders);
console.log(JSON.stringify({ admitted: bots.length, refused, flooderIds: flooders.map((b) => b.id) }));

let timers: ReturnType<typeof setInterval>[] = [];
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'go') {
    timers = flooders.map((bot, i) => {
      let raised = false;
      return setInterval(
        () => {
          raised = !raised;
          if (bot.ws.readyState === WebSocket.OPEN)
            bot.ws.send(JSON.stringify({ type: 'update', changes: { handRaised: raised } }));
        },
        1_000 / plan.rate + (i % 3),
      );
    });
  }
  if (line === 'stop') {
    for (const timer of timers) clearInterval(timer);
    for (const bot of bots) bot.ws.terminate();
    break;
  }
}
process.exit(0);
