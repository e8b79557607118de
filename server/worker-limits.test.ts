/**
 * The media API's body limit, through the real Worker under `wrangler dev`.
 * wrangler's local proxy holds every answer until the whole request body has
 * arrived, so "refused before reading" shows as an answer to
 * `Expect: 100-continue` that comes before the body is asked for, and "stops
 * reading at the limit" as workerd's memory not growing with the body.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { useWorker } from './test-support.js';

const worker = useWorker();

/** Well-formed media credentials, so the request gets as far as its body. */
const MEDIA_AUTH = 'Bearer someone.0123456789abcdef0123456789abcdef';
const MEDIA_PATH = '/api/rooms/limits/media/session';
const MiB = 1024 * 1024;

function mediaRequest(headers: Record<string, string>): ClientRequest {
  return request({
    host: '127.0.0.1',
    port: worker().port,
    method: 'POST',
    path: MEDIA_PATH,
    headers: { Authorization: MEDIA_AUTH, 'Content-Type': 'application/json', ...headers },
  });
}

async function jsonOf(response: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of response) text += String(chunk);
  return JSON.parse(text);
}

/** workerd processes in wrangler's process group: its proxy and the runtime running the Worker. */
function workerdProcesses(groupId: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // Exited meanwhile.
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // After "(name) ": state, parent pid, process group.
    const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    if (name === 'workerd' && group === groupId) pids.push(Number(entry));
  }
  return pids;
}

/** Peak resident memory (VmHWM) of these processes together, in bytes. */
function peakResident(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    total += Number(kib) * 1024;
  }
  return total;
}

/** Starts each peak afresh from the current resident size (Linux `clear_refs` 5). */
function resetPeaks(pids: number[]): void {
  for (const pid of pids) writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

describe('media API body limit', () => {
  it('still takes a body under the limit', async () => {
    const response = await fetch(`${worker().url}${MEDIA_PATH}`, {
      method: 'POST',
      headers: { Authorization: MEDIA_AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({ padding: ' '.repeat(100 * 1024) }),
    });
    // Past the body check, the room answers: this Worker has no Calls app.
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: 'media-unavailable' } });
  });

  it('refuses a declared oversized body before the client sends it', async () => {
    const req = mediaRequest({ 'Content-Length': String(10 * 1024 * MiB), Expect: '100-continue' });
    const outcome = await new Promise<'asked for the body' | IncomingMessage>((resolve, reject) => {
      req.on('continue', () => resolve('asked for the body'));
      req.on('response', resolve);
      req.on('error', reject);
      req.setTimeout(5_000, () =>
        reject(new Error('no answer within 5 s while the body was held back: the Worker waits to read it')),
      );
      req.flushHeaders();
    });
    try {
      expect(outcome).not.toBe('asked for the body');
      const response = outcome as IncomingMessage;
      expect(response.statusCode).toBe(413);
      expect(await jsonOf(response)).toMatchObject({ error: { code: 'too-large' } });
    } finally {
      req.destroy();
    }
  });

  it('refuses a declared oversized body already on its way, and takes the next request', async () => {
    const post = (body: string) =>
      fetch(`${worker().url}${MEDIA_PATH}`, {
        method: 'POST',
        headers: { Authorization: MEDIA_AUTH, 'Content-Type': 'application/json' },
        body,
      });
    const oversized = await post(' '.repeat(200 * 1024));
    expect(oversized.status).toBe(413);
    expect(await oversized.json()).toMatchObject({ error: { code: 'too-large' } });
    const next = await post('{}');
    expect(await next.json()).toMatchObject({ error: { code: 'media-unavailable' } });
  });

  it('stops taking a 200 MB chunked body at the limit instead of holding it', async () => {
    const workerd = workerdProcesses(worker().pid);
    expect(workerd.length).toBeGreaterThan(0);
    resetPeaks(workerd);
    const before = peakResident(workerd);

    const req = mediaRequest({ 'Transfer-Encoding': 'chunked' });
    // In production the client gets the 413 at once. Under wrangler dev its proxy,
    // which holds answers until the body is complete, answers 503 or resets the
    // connection instead. Either way the upload ends early.
    const ended = new Promise<unknown>((resolve) => {
      req.on('response', resolve);
      req.on('error', resolve);
    });
    let over = false;
    void ended.then(() => (over = true));
    const chunk = Buffer.alloc(MiB, ' ');
    let sentMiB = 0;
    while (sentMiB < 200 && !over) {
      if (!req.write(chunk))
        await Promise.race([new Promise((resolve) => req.once('drain', resolve)), ended]);
      sentMiB += 1;
    }
    if (!over) req.end();
    await ended;
    req.destroy();

    expect(sentMiB, 'MiB the Worker took before the exchange ended').toBeLessThan(200);
    const grewBy = peakResident(workerd) - before;
    expect(grewBy / MiB, 'MiB workerd grew by while the body was sent').toBeLessThan(40);
  }, 30_000);
});
