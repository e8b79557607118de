/**
 * Runs the local SFU on its own: `tsx server/local/sfu/main.ts [port]`.
 * `npm start` starts it for you; this is for poking at it by hand.
 */
import { startLocalSfu } from './calls-server.js';
import { LOCAL_CALLS_APP_ID, LOCAL_CALLS_APP_SECRET } from './local-app.js';

const sfu = await startLocalSfu({
  appId: LOCAL_CALLS_APP_ID,
  appSecret: LOCAL_CALLS_APP_SECRET,
  port: Number(process.argv[2] ?? 0),
});
console.log(`Local SFU: CALLS_API_URL=${sfu.callsApiUrl} CALLS_APP_ID=${LOCAL_CALLS_APP_ID}`);
const stop = () => void sfu.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
