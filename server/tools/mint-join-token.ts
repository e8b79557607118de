/**
 * Mints a join token for a room protected by JOIN_SECRET:
 *   JOIN_SECRET=... npm run token -- --room standup --name Ann --role host --ttl 3600
 *   JOIN_SECRET=... npm run token -- --room standup --name Ann --sub user-42 --picture https://cdn.example/ann.png
 * Your own backend does the same with any HS256 JWT library. The ttl may not
 * exceed what the Worker accepts: JOIN_TOKEN_MAX_TTL_SECONDS, 24 h by default.
 */
import { parseArgs } from 'node:util';
import { PICTURE_URL_MAX_LENGTH, ROOM_NAME_PATTERN } from '../../src/protocol/index.js';
import { formatDuration, joinTokenClaims, maxTokenTtlSeconds, signJoinToken } from '../auth/join-token.js';

const { values } = parseArgs({
  options: {
    room: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', default: 'guest' },
    ttl: { type: 'string', default: '3600' },
    sub: { type: 'string' },
    picture: { type: 'string' },
  },
});

const secret = process.env.JOIN_SECRET;
const fail = (message: string): never => {
  console.error(`mint-join-token: ${message}`);
  console.error(
    'usage: JOIN_SECRET=... npm run token -- --room <room> --name <name> [--role host|guest] [--ttl seconds]' +
      ' [--sub <user id>] [--picture <https URL>]',
  );
  process.exit(2);
};
if (!secret) fail('JOIN_SECRET is not set');
if (!values.room || !ROOM_NAME_PATTERN.test(values.room))
  fail('--room must be letters, digits, - or _ (1-64)');
const maxTtl = maxTokenTtlSeconds(process.env.JOIN_TOKEN_MAX_TTL_SECONDS);
const maxSeconds = maxTtl.ok ? maxTtl.seconds : fail(maxTtl.reason);
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0 || ttl > maxSeconds) {
  fail(
    `--ttl must be whole seconds, at most ${maxSeconds} (${formatDuration(maxSeconds)}): ` +
      'the Worker refuses tokens that live longer (JOIN_TOKEN_MAX_TTL_SECONDS)',
  );
}
const claims = joinTokenClaims.safeParse({
  room: values.room,
  name: values.name,
  role: values.role,
  exp: 0,
  sub: values.sub,
  picture: values.picture,
});
if (!claims.success) {
  const claim = claims.error.issues[0]?.path[0];
  if (claim === 'sub') fail('--sub must be 1-256 characters');
  if (claim === 'picture') {
    fail(
      `--picture must be an https: URL (http: only on 127.0.0.1, [::1] or localhost), ` +
        `at most ${PICTURE_URL_MAX_LENGTH} characters, without credentials`,
    );
  }
  fail('--name must be 1-64 characters and --role host or guest');
}

console.log(await signJoinToken(claims.data!, secret!, ttl));
