/**
 * Names and pictures from the site's user directory: a real directory on
 * 127.0.0.1 that the Worker asks for a join token's `sub`, what the room
 * announces when it answers, fails or is not there, and which picture URLs
 * never reach a room.
 */
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { PICTURE_URL_MAX_LENGTH } from '../src/protocol/index.js';
import { signJoinToken } from './auth/join-token.js';
import { freePort } from './local/dev/worker.js';
import { connect, freshRoom, joined, useWorker } from './test-support.js';

const SECRET = 'user-directory-test-secret-long-enough-for-hs256';
const DIRECTORY_TOKEN = 'directory-token-the-browser-never-sees';

/** How the directory answers for each sub; unknown subs get a 404. */
const answers = new Map<string, (res: ServerResponse) => void>();
/** Every question the directory was asked, as it arrived. */
const asked: { path: string; authorization: string | undefined }[] = [];
const directory = createServer((req, res) => {
  asked.push({ path: req.url ?? '', authorization: req.headers.authorization });
  const sub = decodeURIComponent((req.url ?? '').replace(/^\/users\//, ''));
  const answer = answers.get(sub);
  if (answer) answer(res);
  else res.writeHead(404).end();
});
await new Promise<void>((resolve) => directory.listen(0, '127.0.0.1', resolve));
const directoryOrigin = `http://127.0.0.1:${(directory.address() as AddressInfo).port}`;
afterAll(async () => {
  // The hanging answers too.
  directory.closeAllConnections();
  await new Promise<void>((resolve) => directory.close(() => resolve()));
});

const worker = useWorker({
  vars: {
    JOIN_SECRET: SECRET,
    // The trailing slash is the owner's: the sub still makes one path segment.
    USER_DIRECTORY_URL: `${directoryOrigin}/users/`,
    USER_DIRECTORY_TOKEN: DIRECTORY_TOKEN,
  },
});

let subCounter = 0;
/** A sub no other test uses: the Worker caches what the directory said about each. */
const freshSub = (label: string) => `${label}|${process.pid}/${++subCounter}`;
const profile = (body: unknown) => (res: ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const questionsAbout = (sub: string) =>
  asked.filter((question) => question.path === `/users/${encodeURIComponent(sub)}`);

const TOKEN_PICTURE = 'https://cdn.example/from-token.png';
const tokenFor = (room: string, claims: { sub?: string; picture?: string; name?: string } = {}) =>
  signJoinToken({ room, name: 'Token Name', role: 'guest', picture: TOKEN_PICTURE, ...claims }, SECRET, 600);

/** Joins with a token carrying `claims`; the participant the room announced to everyone. */
async function joinWith(claims: Parameters<typeof tokenFor>[1]) {
  const room = freshRoom('directory');
  const watcher = await connect(worker, room, { token: await tokenFor(room, { sub: undefined }) });
  const { participant } = await joined(worker, room, 'typed by the visitor', {
    token: await tokenFor(room, claims),
  });
  const announced = await watcher.next('participant-joined', (m) => m.participant.id === participant.id);
  expect(announced.participant).toEqual(participant);
  return participant;
}

/** Picture URLs neither end may take, by what is wrong with them. */
const BAD_PICTURES: [string, string][] = [
  ['javascript:', 'javascript:alert(1)'],
  ['data:', 'data:image/png;base64,iVBORw0KGgo='],
  ['http: on a public host', 'http://example.com/ann.png'],
  ['https: with credentials', 'https://ann:secret@cdn.example/ann.png'],
  ['longer than the limit', `https://cdn.example/${'a'.repeat(PICTURE_URL_MAX_LENGTH)}`],
];

describe('a token with sub', () => {
  it("shows the directory's name and picture, asking with the directory's token", async () => {
    const sub = freshSub('auth0|ann');
    const picture = `${directoryOrigin}/pictures/ann.png`;
    answers.set(sub, profile({ name: 'Ann Example', picture }));
    const participant = await joinWith({ sub });
    expect(participant).toMatchObject({ name: 'Ann Example', picture });
    // `|` and `/` are escaped: the sub is one path segment.
    expect(questionsAbout(sub)).toEqual([
      { path: `/users/${encodeURIComponent(sub)}`, authorization: `Bearer ${DIRECTORY_TOKEN}` },
    ]);
    expect(questionsAbout(sub)[0]!.path).not.toContain('|');
  });

  it('asks the directory once for joins within a minute', async () => {
    const sub = freshSub('bob');
    answers.set(sub, profile({ name: 'Bob Example' }));
    expect(await joinWith({ sub })).toMatchObject({ name: 'Bob Example' });
    // The directory changes its mind; the cached answer stands for now.
    answers.set(sub, profile({ name: 'Robert Example' }));
    expect(await joinWith({ sub })).toMatchObject({ name: 'Bob Example' });
    expect(questionsAbout(sub)).toHaveLength(1);
  });

  it('keeps a picture as long as the protocol allows', async () => {
    const sub = freshSub('long');
    const start = 'https://cdn.example/pictures/';
    const picture = start + 'a'.repeat(PICTURE_URL_MAX_LENGTH - start.length);
    answers.set(sub, profile({ name: 'Long Picture', picture }));
    expect(await joinWith({ sub })).toMatchObject({ name: 'Long Picture', picture });
  });

  it.each([
    ['answers 500', (res: ServerResponse) => res.writeHead(500).end()],
    ['does not know the sub (404)', undefined],
    ['answers something that is not JSON', (res: ServerResponse) => res.writeHead(200).end('<html>')],
    ['answers an empty name', profile({ name: '   ', picture: 'https://cdn.example/x.png' })],
    ['answers a name with a text-direction override', profile({ name: 'Ann\u202Etxt.exe' })],
    ['redirects', (res: ServerResponse) => res.writeHead(302, { location: `${directoryOrigin}/x` }).end()],
    ['drops the connection', (res: ServerResponse) => res.socket?.destroy()],
    ['does not answer within 2 s', () => undefined],
  ])("uses the token's name and picture when the directory %s", async (_label, answer) => {
    const sub = freshSub('fallback');
    if (answer) answers.set(sub, answer);
    const participant = await joinWith({ sub });
    expect(participant).toMatchObject({ name: 'Token Name', picture: TOKEN_PICTURE });
    expect(questionsAbout(sub)).toHaveLength(1);
  });

  it.each([...BAD_PICTURES, ['not a string', 42]])(
    "keeps the directory's name but drops a picture that is %s",
    async (_label, picture) => {
      const sub = freshSub('bad-picture');
      answers.set(sub, profile({ name: 'Named By Directory', picture }));
      const participant = await joinWith({ sub });
      expect(participant.name).toBe('Named By Directory');
      expect(participant).not.toHaveProperty('picture');
    },
  );
});

describe('a token without sub', () => {
  it('is never looked up: its own name and picture show', async () => {
    const before = asked.length;
    const picture = `${directoryOrigin}/pictures/local.png`;
    expect(await joinWith({ sub: undefined, picture })).toMatchObject({ name: 'Token Name', picture });
    expect(asked.length).toBe(before);
  });

  it('shows no picture when it has none', async () => {
    const room = freshRoom('no-picture');
    const token = await signJoinToken({ room, name: 'Plain', role: 'guest' }, SECRET, 600);
    const { participant } = await joined(worker, room, 'x', { token });
    expect(participant.name).toBe('Plain');
    expect(participant).not.toHaveProperty('picture');
  });
});

describe("a token's picture", () => {
  it.each(BAD_PICTURES)('refuses the token when it is %s', async (_label, picture) => {
    const room = freshRoom('bad-token-picture');
    const socket = await connect(worker, room, { token: await tokenFor(room, { picture }), heartbeatMs: 0 });
    const error = await socket.next('error');
    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain("join token's picture");
    expect((await socket.closed).code).toBe(1008);
  });

  it('on a loopback host is refused by a Worker not served from loopback', async () => {
    const room = freshRoom('loopback-picture');
    const local = await tokenFor(room, { picture: 'http://127.0.0.1:9/ann.png' });
    const https = await tokenFor(room);
    const summary = (token: string, host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        // Node's fetch will not set Host; a production Worker sees the site's host here.
        const ask = request(
          `${worker().url}/api/rooms/${room}?token=${token}`,
          { headers: { host } },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        ask.on('error', reject);
        ask.end();
      });
    expect(await summary(local, `127.0.0.1:${worker().port}`)).toMatchObject({ status: 200 });
    expect(await summary(https, 'meet.example')).toMatchObject({ status: 200 });
    const refused = await summary(local, 'meet.example');
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('loopback');
  });
});

/** Nothing listens there. */
const nowhere = `http://127.0.0.1:${await freePort()}/users`;

describe('a directory that is down', () => {
  const downWorker = useWorker({ vars: { JOIN_SECRET: SECRET, USER_DIRECTORY_URL: nowhere } });

  it("leaves the token's name and picture", async () => {
    const room = freshRoom('directory-down');
    const { participant } = await joined(downWorker, room, 'x', {
      token: await tokenFor(room, { sub: freshSub('down') }),
    });
    expect(participant).toMatchObject({ name: 'Token Name', picture: TOKEN_PICTURE });
  });
});
