/**
 * The site's user directory (`USER_DIRECTORY_URL`): what a join token's `sub`
 * is called now, and their picture, so people show up with the name and face
 * the site knows rather than what was true when the token was minted.
 *
 * `GET <USER_DIRECTORY_URL>/<sub>` answers `{ "name": string, "picture"?: string }`.
 * Joining must not hang on it, nor fail because of it: a short timeout, and
 * any failure is the caller's cue to use the token's own claims. Answers are
 * kept a little while in this isolate's memory, so a meeting of fifty people
 * rejoining after a network blip asks the directory once each, not per page.
 */
import * as z from 'zod/mini';
import { displayName, pictureUrl } from '../../src/protocol/index.js';
import { readLimitedText } from '../http/limited-body.js';

export interface Profile {
  name: string;
  /** Passed the protocol's `pictureUrl`; a bad one in the answer is dropped, the name kept. */
  picture?: string;
}

export type ProfileLookup = { ok: true; profile: Profile } | { ok: false; reason: string };

export interface DirectoryOptions {
  /** `USER_DIRECTORY_URL`: the sub is appended as one more path segment. */
  url: string;
  /** `USER_DIRECTORY_TOKEN`, sent as `Authorization: Bearer`. */
  token?: string | undefined;
  timeoutMs?: number;
  now?: () => number;
}

/** Long enough for every join of one meeting's start, short enough for a renamed user to show soon. */
const FOUND_TTL_MS = 60_000;
/**
 * A sub the directory does not know, or a directory that failed, is asked
 * again soon: the cache only spares a failing directory (and every joiner
 * its timeout) a burst of the same question.
 */
const MISS_TTL_MS = 10_000;
/** Isolates are small and short-lived; beyond this, the oldest answers go first. */
const MAX_ENTRIES = 1000;
/** A profile is a name and a URL; anything much larger is not one. */
const MAX_ANSWER_BYTES = 16 * 1024;

const answer = z.object({ name: displayName, picture: z.optional(z.unknown()) });

const cache = new Map<string, { lookup: ProfileLookup; expiresAt: number }>();

export async function lookUpProfile(sub: string, options: DirectoryOptions): Promise<ProfileLookup> {
  const { now = Date.now } = options;
  const key = `${options.url}\n${sub}`;
  const cached = cache.get(key);
  if (cached && cached.expiresAt > now()) return cached.lookup;
  const lookup = await ask(sub, options);
  // Said once per question asked: cached failures are not logged again.
  if (!lookup.ok)
    console.warn(
      `user directory: ${lookup.reason} (sub ${JSON.stringify(sub)}); using the join token's claims`,
    );
  cache.delete(key);
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(key, { lookup, expiresAt: now() + (lookup.ok ? FOUND_TTL_MS : MISS_TTL_MS) });
  return lookup;
}

async function ask(sub: string, options: DirectoryOptions): Promise<ProfileLookup> {
  const { timeoutMs = 2_000 } = options;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let response: Response;
  let text: string | null;
  try {
    response = await fetch(`${options.url.replace(/\/+$/, '')}/${encodeURIComponent(sub)}`, {
      headers,
      // A redirect could take the directory's token elsewhere: the owner configures the final URL.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      return { ok: false, reason: response.status === 404 ? 'no such user' : `answered ${response.status}` };
    }
    text = await readLimitedText(response, MAX_ANSWER_BYTES);
  } catch (error) {
    const timedOut = (error as Error | undefined)?.name === 'TimeoutError';
    return { ok: false, reason: timedOut ? `no answer within ${timeoutMs} ms` : 'could not connect' };
  }
  if (text === null) {
    await response.body?.cancel().catch(() => undefined);
    return { ok: false, reason: `answer larger than ${MAX_ANSWER_BYTES} bytes` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'answer is not JSON' };
  }
  const parsed = answer.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'answer has no valid name' };
  const picture = pictureUrl.safeParse(parsed.data.picture);
  return { ok: true, profile: { name: parsed.data.name, ...(picture.success && { picture: picture.data }) } };
}
