/**
 * Runs the local realtime stand-in on its own: `tsx server/local/realtime/main.ts [port]`.
 * `npm start` is to start it for you; this is for poking at it by hand.
 */
import { LOCAL_OPENAI_API_KEY } from './local-key.js';
import { startLocalRealtime } from './server.js';

const realtime = await startLocalRealtime({
  apiKey: LOCAL_OPENAI_API_KEY,
  port: Number(process.argv[2] ?? 0),
});
console.log(`Local OpenAI Realtime: OPENAI_API_URL=${realtime.url} OPENAI_API_KEY=${LOCAL_OPENAI_API_KEY}`);
const stop = () => void realtime.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
