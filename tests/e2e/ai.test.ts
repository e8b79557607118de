/**
 * The AI agent end to end: two visitors of a third-party page, the Worker,
 * the local SFU and the local OpenAI Realtime stand-in. The host invites the
 * AI, the guest holds "Talk to AI" and speaks (Chromium's fake microphone),
 * and both hear the answer and read its caption; the host removes it and
 * nothing of it is left on the SFU or at "OpenAI".
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useE2e } from '../support/e2e.js';
import { expectAudioFlowing, joinWithMedia, remoteTile } from '../support/media-page.js';

const e2e = useE2e({ ai: true });
const { visitor, pageErrors } = e2e;

/** Keeps what `<meet-room>` fires about the AI, for reading later. */
const recordAiEvents = (page: Page) =>
  page.evaluate(() => {
    const seen: { states: string[]; captions: { text: string; final: boolean }[] } = {
      states: [],
      captions: [],
    };
    Object.assign(window, { aiEvents: seen });
    const room = document.querySelector('meet-room')!;
    room.addEventListener('meet-ai-state', (event) =>
      seen.states.push((event as CustomEvent<{ state: string }>).detail.state),
    );
    room.addEventListener('meet-ai-caption', (event) =>
      seen.captions.push((event as CustomEvent<{ text: string; final: boolean }>).detail),
    );
  });
const aiEvents = (page: Page) =>
  page.evaluate(
    () =>
      (window as unknown as { aiEvents: { states: string[]; captions: { text: string; final: boolean }[] } })
        .aiEvents,
  );

const toggle = (page: Page) => page.locator('meet-room meet-ai-toggle');
const aiTile = (page: Page) => remoteTile(page, 'AI');

describe('the AI agent across origins', () => {
  it('the host invites it, the guest talks to it, both hear and read the answer, the host removes it', async () => {
    const room = `ai-${Date.now()}`;
    const realtime = e2e.realtime!;
    const [ann, bob] = await Promise.all([visitor(room), visitor(room)]);
    await joinWithMedia(ann, 'Ann');
    await joinWithMedia(bob, 'Bob');
    await Promise.all([ann, bob].map(recordAiEvents));

    // Ann is the host (first in an open room): she may invite; Bob may not.
    await expect(toggle(bob).getByRole('button', { name: 'Invite AI' }).count()).resolves.toBe(0);
    await toggle(ann).getByRole('button', { name: 'Invite AI' }).click();
    for (const page of [ann, bob]) {
      await aiTile(page).waitFor({ timeout: 15_000 });
      await expect.poll(() => aiTile(page).getAttribute('ai-state'), { timeout: 15_000 }).toBe('listening');
    }
    await expect.poll(() => realtime.stats().callsOpen).toBe(1);
    // Someone arriving in the lobby is told about the people, and the AI apart.
    const cy = await visitor(room);
    await expect
      .poll(() => cy.locator('meet-room [part="lobby"] p').first().textContent())
      .toBe('2 people are in the meeting. The AI is there too.');
    await cy.context().close();

    // Bob holds Talk to AI: everyone sees who holds it, and the stand-in hears his microphone.
    const talk = toggle(bob).getByRole('button', { name: 'Talk to AI' });
    await talk.hover();
    const heardBefore = realtime.stats().audioPacketsReceived;
    await bob.mouse.down();
    await expect.poll(() => talk.getAttribute('aria-pressed')).toBe('true');
    await expect
      .poll(() => toggle(ann).locator('[part="talker"]').textContent(), { timeout: 10_000 })
      .toBe('Bob is talking to the AI.');
    // Two and a half seconds of his voice (20 ms packets): the fake microphone beeps every second.
    await expect
      .poll(() => realtime.stats().audioPacketsReceived - heardBefore, { timeout: 15_000 })
      .toBeGreaterThan(125);

    // He lets go: the AI answers on both pages. Listening starts before, so what is
    // heard is the answer (the agent's track carries nothing until then).
    const answers = [ann, bob].map((page) => expectAudioFlowing(page, 'AI', 15_000));
    await bob.mouse.up();
    await expect.poll(() => talk.getAttribute('aria-pressed')).toBe('false');
    await Promise.all(answers);
    for (const page of [ann, bob]) {
      await expect
        .poll(() => toggle(page).locator('[part="caption"]').textContent(), { timeout: 10_000 })
        .toMatch(/I heard you for \d+(\.\d+)? seconds?\./);
      expect(await aiTile(page).locator('[part="ai-caption"]').textContent()).toMatch(/I heard you/);
      const { captions, states } = await aiEvents(page);
      expect(captions.at(-1)?.final).toBe(true);
      expect(captions.filter((c) => !c.final).length, 'the answer arrives in pieces').toBeGreaterThan(0);
      expect(states).toEqual(expect.arrayContaining(['connecting', 'listening', 'speaking']));
    }
    await expect.poll(() => toggle(ann).locator('[part="talker"]').count()).toBe(0);

    // Ann removes it: the tile goes on both pages, and nothing of it is left anywhere.
    await toggle(ann).getByRole('button', { name: 'Remove AI' }).click();
    for (const page of [ann, bob]) await aiTile(page).waitFor({ state: 'detached', timeout: 10_000 });
    await expect
      .poll(() => realtime.stats())
      .toMatchObject({ callsOpen: 0, sidebandsOpen: 0, callsHungUp: 1 });
    const agentTracks = () =>
      [...e2e.stack.sfu.sessions.values()].filter((s) => s.published.has('ai-generated-voice')).length;
    await expect.poll(agentTracks, { timeout: 10_000 }).toBe(0);
    expect((await aiEvents(bob)).states.at(-1)).toBe('off');

    await Promise.all([ann, bob].map((page) => page.context().close()));
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
