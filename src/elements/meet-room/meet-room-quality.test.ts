/**
 * What `<meet-room>` says about connections (issue 9): the others' quality
 * as `meet-quality`, your own connection when it stays poor, your media
 * dropping ("Reconnecting…"), and the browser going offline. Real meetings
 * through the Worker and the local SFU, made bad by its impairments.
 */
import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { defineElement } from '../../define.js';
import type { MeetEvent } from '../../events/meet-events.js';
import { freshRoom, impairMedia, localWorkers } from '../../test-support/local-workers.js';
import { MeetRoom } from './meet-room.js';

defineElement('meet-room', MeetRoom);

/** The text of a region of the room while it shows, else null. */
const shown = (el: MeetRoom, part: 'notice' | 'status') => {
  const region = el.shadowRoot!.querySelector<HTMLElement>(`[part="${part}"]`);
  return region && !region.hidden ? (region.textContent?.replace(/\s+/g, ' ').trim() ?? null) : null;
};

async function room(room: string, name: string): Promise<MeetRoom> {
  const { open } = await localWorkers();
  const el = await fixture<MeetRoom>(html`<meet-room room=${room} server=${open} name=${name}></meet-room>`);
  await waitUntil(() => el.meeting && el.shadowRoot!.querySelector('[part="lobby"]'), 'lobby', {
    timeout: 5_000,
  });
  return el;
}

async function joinWithMedia(el: MeetRoom): Promise<void> {
  await el.setMicrophone(true);
  await el.setCamera(true);
  const joined = oneEvent(el, 'meet-joined');
  await waitUntil(() => el.join(), 'join starts', { timeout: 5_000 });
  await joined;
}

const sessionOf = (el: MeetRoom) => el.meeting!.mediaSessionId!;

describe('<meet-room> and connections', () => {
  it('says when the browser goes offline, until it is back', async () => {
    const el = await room(freshRoom('offline'), 'Ann');
    window.dispatchEvent(new Event('offline'));
    await el.updateComplete;
    expect(shown(el, 'notice')).to.contain('You are offline');
    expect(el.shadowRoot!.querySelector('[part="notice"]')!.getAttribute('role'), 'polite').to.equal(
      'status',
    );
    await expect(el).to.be.accessible();
    window.dispatchEvent(new Event('online'));
    await el.updateComplete;
    expect(shown(el, 'notice')).to.equal(null);
  });

  it("fires meet-quality when someone's connection changes, tells you yours is poor, and says Reconnecting… when your media drops", async function () {
    this.timeout(90_000);
    const name = freshRoom('quality');
    const ann = await room(name, 'Ann');
    await joinWithMedia(ann);
    const bob = await room(name, 'Bob');
    await joinWithMedia(bob);
    const heard: string[] = [];
    bob.addEventListener('meet-quality', (event: MeetEvent<'meet-quality'>) =>
      heard.push(`${event.detail.participant.name}: ${event.detail.quality}`),
    );
    await Promise.all([ann.meeting!.settled(), bob.meeting!.settled()]);

    await impairMedia({ sessionId: sessionOf(ann), loss: 0.3, direction: 'from-browser' });
    await waitUntil(() => heard.includes('Ann: poor'), "Bob hears Ann's connection is poor", {
      timeout: 20_000,
    });
    await waitUntil(() => shown(ann, 'notice')?.includes('Your connection is unstable'), 'Ann is told', {
      timeout: 20_000,
    });
    expect(shown(bob, 'notice'), "Bob's own connection is fine").to.equal(null);
    await expect(ann).to.be.accessible();

    await impairMedia({ sessionId: sessionOf(ann), loss: 0 });
    await waitUntil(() => heard.at(-1) === 'Ann: good', 'Ann is good again for Bob', { timeout: 20_000 });
    await waitUntil(() => shown(ann, 'notice') === null, 'the notice goes', { timeout: 20_000 });

    await impairMedia({ sessionId: sessionOf(ann), loss: 1 });
    await waitUntil(() => shown(ann, 'status')?.includes('Reconnecting…'), 'Ann sees Reconnecting…', {
      timeout: 3_000,
    });
    await impairMedia({ sessionId: sessionOf(ann), loss: 0 });
    await waitUntil(() => shown(ann, 'status') === null, 'and recovers by itself', { timeout: 10_000 });
  });
});
