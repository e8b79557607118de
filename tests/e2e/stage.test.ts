/**
 * A meeting bigger than its grid: five visitors of the third-party page,
 * each grid limited to three places (two tiles and "+3"). Each visitor
 * receives video only for what it shows (checked at the SFU) and sound from
 * everyone; someone off stage who starts speaking comes on stage within a
 * second, with their video; pinning brings a tile and its video; a small
 * tile receives a lower simulcast layer than a large one.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { TONE_MICROPHONE } from '../../server/local/dev/tone-microphone.js';
import { useE2e } from '../support/e2e.js';
import { expectVideoFlowing, joinWithMedia, remoteTile, sessionOf } from '../support/media-page.js';

const e2e = useE2e();
const { visitor, pageErrors } = e2e;

/** The names on this page's stage (tiles not hidden), in layout order. */
const onStage = (page: Page) =>
  page.evaluate(() => {
    const grid = document.querySelector('meet-room')!.shadowRoot!.querySelector('meet-participant-grid')!;
    return Array.from(grid.shadowRoot!.querySelectorAll('meet-participant-tile'))
      .filter((tile) => !(tile as HTMLElement).hidden)
      .sort((a, b) => Number(a.ariaPosInSet) - Number(b.ariaPosInSet))
      .map((tile) => tile.shadowRoot!.querySelector('[part="name"]')!.textContent.trim());
  });

describe('a meeting bigger than the grid', () => {
  it('receives video only for what is shown, brings a speaker on stage, and pins', async () => {
    const room = `stage-${Date.now()}`;
    const names = ['Ann', 'Bob', 'Cy', 'Dee', 'Eve'];
    const pages: Record<string, Page> = {};
    for (const name of names) {
      const page = await visitor(room, name === 'Dee' ? { initScript: TONE_MICROPHONE } : {});
      await page.evaluate(() => document.querySelector('meet-room')!.setAttribute('max-tiles', '3'));
      await joinWithMedia(page, name, { microphone: name === 'Dee' });
      pages[name] = page;
    }
    const ann = pages.Ann!;
    const sessions = Object.fromEntries(
      await Promise.all(names.map(async (name) => [(await sessionOf(pages[name]!))!, name] as const)),
    );
    /** Whose camera Ann's session pulls at the SFU now. */
    const annPullsVideoOf = async () => {
      const session = e2e.stack.sfu.sessions.get((await sessionOf(ann))!);
      return [...(session?.pulled.values() ?? [])]
        .filter((pull) => pull.active && pull.source.kind === 'video')
        .map((pull) => sessions[pull.source.session.id])
        .sort();
    };

    // Ann sees herself and Bob (the first to arrive after her), and "+3".
    await expect.poll(() => onStage(ann), { timeout: 10_000 }).toEqual(['Ann (you)', 'Bob']);
    expect(await ann.locator('meet-participant-grid [part="more"]').textContent()).toContain('+3');
    await expectVideoFlowing(ann, 'Bob');
    await expect.poll(annPullsVideoOf, { timeout: 10_000 }).toEqual(['Bob']);
    // Dee is off stage (her tile hidden), and her sound plays all the same.
    const deesAudio = ann
      .locator('meet-participant-grid meet-participant-tile[hidden]', {
        has: ann.getByRole('group', { name: 'Dee', exact: true, includeHidden: true }),
      })
      .locator('audio');
    await expect
      .poll(
        () =>
          deesAudio.evaluate((audio: HTMLAudioElement) => {
            const track = (audio.srcObject as MediaStream | null)?.getAudioTracks()[0];
            return !!track && track.readyState === 'live' && !track.muted && !audio.paused;
          }),
        { timeout: 10_000 },
      )
      .toBe(true);

    // Dee speaks: within a second she is on Ann's stage, speaking, and her video comes.
    await pages.Dee!.evaluate(() =>
      (globalThis as unknown as { __tone: (on: boolean) => number }).__tone(true),
    );
    await expect
      .poll(() => remoteTile(ann, 'Dee').getAttribute('speaking'), { timeout: 1_000, interval: 50 })
      .toBe('');
    await expect.poll(() => onStage(ann)).toEqual(['Ann (you)', 'Dee']);
    await expectVideoFlowing(ann, 'Dee');
    await expect.poll(annPullsVideoOf, { timeout: 10_000 }).toEqual(['Dee']);
    await pages.Dee!.evaluate(() =>
      (globalThis as unknown as { __tone: (on: boolean) => number }).__tone(false),
    );
    await expect.poll(() => remoteTile(ann, 'Dee').getAttribute('speaking'), { timeout: 3_000 }).toBeNull();
    expect(await onStage(ann), 'quiet again, she stays').toEqual(['Ann (you)', 'Dee']);

    // Ann pins Eve, who was off stage, from the people list ("+3" takes her there): her tile
    // and her video come, first and large.
    await ann.locator('meet-participant-grid [part="more"]').click();
    await ann.locator('meet-room [part~="participants"]').getByRole('button', { name: 'Pin Eve' }).click();
    await expect.poll(() => onStage(ann)).toEqual(['Eve', 'Ann (you)']);
    await expectVideoFlowing(ann, 'Eve');
    await expect.poll(annPullsVideoOf, { timeout: 10_000 }).toEqual(['Eve']);

    // Bob, who did nothing, still shows two tiles and receives one camera.
    expect(await onStage(pages.Bob!)).toHaveLength(2);

    // A small tile gets a lower layer than a large one. Ann's pinned Eve fills her stage; Bob lets
    // his grid show all five, small. At the SFU, Ann receives Eve's full layer and
    // Bob her half one (he asks for a quarter, which Chrome does not send from a 640×480 camera);
    // on the pages, 640 and 320 pixels wide.
    const bob = pages.Bob!;
    await bob.evaluate(() => document.querySelector('meet-room')!.setAttribute('max-tiles', '6'));
    await expect.poll(() => onStage(bob), { timeout: 10_000 }).toHaveLength(5);
    const layerOf = async (viewer: Page, name: string) => {
      const viewerSession = await sessionOf(viewer);
      return e2e.stack.sfu
        .stats()
        .pulledLayers.find(
          (l) =>
            l.subscriberSessionId === viewerSession &&
            l.source.endsWith('/camera') &&
            sessions[l.source.split('/')[0]!] === name,
        )?.rid;
    };
    await expect.poll(() => layerOf(ann, 'Eve'), { timeout: 10_000 }).toBe('f');
    await expect.poll(() => layerOf(bob, 'Eve'), { timeout: 10_000 }).toBe('h');
    const widthOf = (viewer: Page) =>
      remoteTile(viewer, 'Eve')
        .locator('video')
        .evaluate((video: HTMLVideoElement) => video.videoWidth);
    await expect.poll(() => widthOf(ann), { timeout: 10_000 }).toBe(640);
    await expect.poll(() => widthOf(bob), { timeout: 10_000 }).toBe(320);
    await expectVideoFlowing(bob, 'Eve');

    await Promise.all(Object.values(pages).map((page) => page.context().close()));
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
