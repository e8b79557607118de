/**
 * Tone on → `speaking` on another page: two visitors of the demo page, Ann's
 * microphone a tone that the benchmark turns on and off (every page opens
 * that tone instead of Chromium's beeping fake microphone). The clock starts
 * when the tone starts in Ann's page and stops when Bob's page marks her
 * tile speaking; then the tone stops, and the next run waits until her tile
 * is quiet again. Both pages read the same system clock (`Date.now()`).
 */
import { chromium, type Page } from 'playwright-core';
import { chromiumArgs, findChromium } from '../server/local/dev/chromium.js';
import type { MediaStack } from '../server/local/dev/media-stack.js';
import type { StaticServer } from '../server/local/dev/static-server.js';
import { TONE_MICROPHONE } from '../server/local/dev/tone-microphone.js';
import { joinWithMicrophone } from './visitor-page.js';

/** Resolves with Date.now() once the tile of `name` on this page is (or is no longer) speaking. */
const TILE_SPEAKING = async ([name, speaking]: [string, boolean]) => {
  const tileOf = () => {
    const grid = document.querySelector('meet-room')?.shadowRoot?.querySelector('meet-participant-grid');
    return Array.from(
      grid?.shadowRoot?.querySelectorAll('meet-participant-tile:not([screen-share])') ?? [],
    ).find((tile) => tile.shadowRoot?.querySelector('[part="name"]')?.textContent?.trim() === name);
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (tileOf()?.hasAttribute('speaking') === speaking) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return NaN;
};

export async function measureSpeaking(
  stack: MediaStack,
  hostSite: StaticServer,
  runs: number,
): Promise<number[]> {
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: chromiumArgs({ media: true }),
  });
  const room = `speaking-bench-${Date.now()}`;
  const open = async (name: string): Promise<Page> => {
    const page = await joinWithMicrophone(browser, {
      hostSite,
      server: stack.worker.url,
      room,
      name,
      initScript: TONE_MICROPHONE,
    });
    return page;
  };
  const results: number[] = [];
  try {
    const ann = await open('Ann');
    const bob = await open('Bob');
    // Her audio plays on Bob's page (levels are measured as it plays).
    await bob.waitForFunction(() => {
      const grid = document.querySelector('meet-room')?.shadowRoot?.querySelector('meet-participant-grid');
      const audio = grid?.shadowRoot
        ?.querySelector('meet-participant-tile:not([local])')
        ?.shadowRoot?.querySelector('audio');
      return (
        !!audio && !audio.paused && (audio.srcObject as MediaStream | null)?.getAudioTracks().length === 1
      );
    });
    for (let run = 0; run < runs; run++) {
      await bob.evaluate(TILE_SPEAKING, ['Ann', false] as [string, boolean]);
      const heard = bob.evaluate(TILE_SPEAKING, ['Ann', true] as [string, boolean]);
      const toneAt = await ann.evaluate(() =>
        (globalThis as unknown as { __tone: (on: boolean) => number }).__tone(true),
      );
      results.push((await heard) - toneAt);
      await ann.evaluate(() => (globalThis as unknown as { __tone: (on: boolean) => number }).__tone(false));
    }
  } finally {
    await browser.close();
  }
  return results;
}
