/**
 * Feedback and bug reports in `<meet-room>` (issue 10): the diagnostics of a
 * real meeting with media, the debug overlay, the rating prompt after
 * leaving and the problem report, against the real Worker's feedback API
 * and the local SFU.
 */
import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { firstValueFrom, skip } from 'rxjs';
import { defineElement } from '../../define.js';
import { FeedbackError } from '../../client/feedback-api.js';
import { feedback } from '../../protocol/index.js';
import { freshRoom, localWorkers } from '../../test-support/local-workers.js';
import type { MeetControls } from '../meet-controls/meet-controls.js';
import { MeetRoom } from './meet-room.js';
import { ASKED_MEETINGS_KEY } from './room-feedback.js';

defineElement('meet-room', MeetRoom);

const shadow = (el: MeetRoom) => el.shadowRoot!;
const part = <T extends Element = HTMLElement>(el: MeetRoom, name: string) =>
  shadow(el).querySelector<T>(`[part~="${name}"]`);

/** The element that has focus, inside shadow roots too. */
function focused(): Element | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

async function room(name: string, who: string, extra = html``): Promise<MeetRoom> {
  const { open } = await localWorkers();
  const el = await fixture<MeetRoom>(
    html`<div><meet-room room=${name} server=${open} name=${who}></meet-room>${extra}</div>`,
  ).then((wrapper) => wrapper.querySelector('meet-room')!);
  await waitUntil(() => el.meeting && part(el, 'lobby'), 'lobby', { timeout: 5_000 });
  return el;
}

async function join(el: MeetRoom, { media = false } = {}): Promise<void> {
  if (media) {
    await el.setMicrophone(true);
    await el.setCamera(true);
  }
  const joined = oneEvent(el, 'meet-joined');
  await waitUntil(() => el.join(), 'join starts', { timeout: 5_000 });
  await joined;
  await el.updateComplete;
}

async function leave(el: MeetRoom): Promise<void> {
  const left = oneEvent(el, 'meet-left');
  el.leave();
  await left;
  await el.updateComplete;
}

/** Bob and Ann meet, and Ann leaves: the meeting she was in. */
async function annLeavesBobsMeeting(label: string) {
  const name = freshRoom(label);
  const bob = await room(name, 'Bob');
  await join(bob);
  const ann = await room(name, 'Ann');
  await join(ann);
  const meetingId = ann.meeting!.meetingId!;
  await leave(ann);
  return { ann, bob, meetingId };
}

afterEach(() => localStorage.removeItem(ASKED_MEETINGS_KEY));

describe('<meet-room> diagnostics and the debug overlay', () => {
  it('reads valid diagnostics in a meeting with media, shows them in the overlay (Ctrl+Alt+G), copies them, and closes on Escape', async function () {
    this.timeout(60_000);
    const name = freshRoom('debug');
    const ann = await room(name, 'Ann');
    await join(ann, { media: true });
    const bob = await room(name, 'Bob');
    await join(bob, { media: true });
    await Promise.all([ann.meeting!.settled(), bob.meeting!.settled()]);
    const bobId = bob.participant!.id;

    // Ann's own view: what she sends, and Bob's tracks by his id, with rates once they flow.
    let diagnostics!: feedback.Diagnostics;
    await waitUntil(
      async () => {
        diagnostics = await firstValueFrom(ann.meeting!.diagnostics$.pipe(skip(1)));
        return diagnostics.tracks.some((t) => t.source === bobId && t.kind === 'video' && t.bitrateKbps);
      },
      "Bob's video arrives at Ann",
      { timeout: 20_000, interval: 500 },
    );
    expect(feedback.diagnostics.parse(diagnostics)).to.deep.equal(diagnostics);
    expect(diagnostics).to.include({
      browser: navigator.userAgent,
      meetingId: ann.meeting!.meetingId,
      callsSessionId: ann.meeting!.mediaSessionId,
      room: 'open',
      media: 'connected',
    });
    expect(diagnostics.meetingId).to.be.a('string');
    const camera = diagnostics.tracks.find((t) => t.source === 'camera')!;
    expect(camera).to.include({ direction: 'outbound', kind: 'video' });
    expect(camera.mid).to.be.a('string');
    expect(camera.width).to.be.greaterThan(0);
    expect(diagnostics.tracks.find((t) => t.source === 'microphone')).to.include({ kind: 'audio' });
    const pulled = diagnostics.tracks.find((t) => t.source === bobId && t.kind === 'video')!;
    expect(pulled.direction).to.equal('inbound');
    expect(pulled.packetLoss).to.be.within(0, 1);
    expect(pulled.roundTripMs).to.be.a('number');

    // The overlay, from the keyboard, with focus somewhere in the meeting first.
    const before = shadow(ann).querySelector<HTMLButtonElement>('[part~="participant"] button')!;
    before.focus();
    await sendKeys({ press: 'Control+Alt+KeyG' });
    await waitUntil(() => part(ann, 'debug')?.querySelector('tbody tr[data-mid]'), 'a track row', {
      timeout: 5_000,
    });
    const overlay = part(ann, 'debug')!;
    expect(overlay.getAttribute('role')).to.equal('dialog');
    expect(overlay.contains(focused()), 'focus moves in').to.equal(true);
    expect(part(ann, 'debug-ids')!.textContent).to.contain(ann.meeting!.meetingId!);
    expect(part(ann, 'debug-ids')!.textContent).to.contain(ann.meeting!.mediaSessionId!);
    await expect(ann).to.be.accessible();

    const copied: string[] = [];
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: (text: string) => Promise.resolve(void copied.push(text)) },
    });
    try {
      part<HTMLButtonElement>(ann, 'debug-copy')!.click();
      await waitUntil(() => part(ann, 'debug-copied')!.textContent?.includes('Copied'), 'Copied');
    } finally {
      delete (navigator as { clipboard?: unknown }).clipboard;
    }
    const json = feedback.diagnostics.parse(JSON.parse(copied[0]!));
    expect(json.callsSessionId).to.equal(ann.meeting!.mediaSessionId);

    await sendKeys({ press: 'Escape' });
    await ann.updateComplete;
    expect(part(ann, 'debug'), 'closed').to.equal(null);
    expect(focused(), 'focus is back').to.equal(before);
  });
});

describe('<meet-room> rating prompt', () => {
  it('asks after leaving, works from the keyboard, sends the rating once (the server refuses a second)', async function () {
    this.timeout(30_000);
    const { ann, meetingId } = await annLeavesBobsMeeting('rating');

    const prompt = part(ann, 'feedback-rating')!;
    expect(prompt.textContent).to.contain('How was the call?');
    expect(focused()?.getAttribute('type'), 'focus on the rating').to.equal('radio');
    await expect(ann).to.be.accessible();

    await sendKeys({ press: 'Space' });
    for (let i = 0; i < 3; i++) await sendKeys({ press: 'ArrowRight' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ type: 'Clear sound' });
    await sendKeys({ press: 'Tab' }); // Skip
    await sendKeys({ press: 'Tab' }); // Send
    const sent = oneEvent(ann, 'meet-feedback');
    await sendKeys({ press: 'Enter' });
    const { detail } = await sent;
    expect(detail).to.include({ kind: 'rating', meetingId, rating: 4 });
    expect(detail.id).to.be.a('string');
    await ann.updateComplete;
    expect(part(ann, 'feedback-rating')!.textContent).to.contain('Thanks');

    const again: unknown = await ann
      .meeting!.sendFeedback({ kind: 'rating', meetingId, rating: 2 })
      .catch((error: unknown) => error);
    expect(again).to.be.instanceOf(FeedbackError);
    expect(again).to.include({ status: 409, code: 'already-rated' });
  });

  it('asks when a host ended the meeting, and the rating goes through although the room closed the connection', async function () {
    this.timeout(30_000);
    const name = freshRoom('ended');
    const ann = await room(name, 'Ann');
    // One page, one localStorage: only Bob is asked (a meeting is asked about once per browser).
    ann.noFeedback = true;
    await join(ann);
    const bob = await room(name, 'Bob');
    await join(bob);
    const meetingId = bob.meeting!.meetingId!;
    const ended = oneEvent(bob, 'meet-left');
    ann.meeting!.endMeeting();
    expect((await ended).detail.reason).to.equal('meeting-ended');
    await waitUntil(() => part(bob, 'feedback-rating'), 'the rating prompt', { timeout: 5_000 });

    part<HTMLInputElement>(bob, 'feedback-stars')!.querySelectorAll('input')[4]!.click();
    await bob.updateComplete;
    const sent = oneEvent(bob, 'meet-feedback');
    [...part(bob, 'feedback-rating')!.querySelectorAll('button')]
      .find((b) => b.textContent?.trim() === 'Send')!
      .click();
    expect((await sent).detail).to.include({ kind: 'rating', meetingId, rating: 5 });
  });

  it('is not asked again for a meeting once skipped, nor with no-feedback', async function () {
    this.timeout(30_000);
    const { ann, bob, meetingId } = await annLeavesBobsMeeting('skip');
    const skipButton = [...part(ann, 'feedback-rating')!.querySelectorAll('button')].find(
      (b) => b.textContent?.trim() === 'Skip',
    )!;
    skipButton.click();
    await ann.updateComplete;
    expect(part(ann, 'feedback-rating')).to.equal(null);

    await join(ann);
    expect(ann.meeting!.meetingId, 'the same meeting (Bob stayed)').to.equal(meetingId);
    await leave(ann);
    expect(part(ann, 'feedback-rating'), 'not asked twice').to.equal(null);

    bob.noFeedback = true;
    await leave(bob);
    expect(part(bob, 'feedback-rating'), 'no-feedback').to.equal(null);
  });
});

describe('<meet-room> problem report', () => {
  it('shows what will be sent before sending, sends it, and says why when it cannot', async function () {
    this.timeout(30_000);
    const ann = await room(freshRoom('report'), 'Ann');
    await join(ann);
    const reported = ann.reportProblem('The video froze');
    await waitUntil(() => part(ann, 'feedback-diagnostics')?.querySelector('dl'), 'diagnostics shown', {
      timeout: 5_000,
    });
    const dialog = part<HTMLDialogElement>(ann, 'feedback-report')!;
    expect(dialog.open).to.equal(true);
    expect(dialog.querySelector('textarea')!.value).to.equal('The video froze');
    expect(focused()).to.equal(dialog.querySelector('textarea'));
    const shown = part(ann, 'feedback-diagnostics')!.textContent;
    expect(shown).to.contain(navigator.userAgent);
    expect(shown).to.contain(ann.meeting!.meetingId!);
    await expect(ann).to.be.accessible();

    const sent = oneEvent(ann, 'meet-feedback');
    dialog.querySelector<HTMLButtonElement>('button.primary')!.click();
    const id = await reported;
    expect(id).to.be.a('string');
    expect((await sent).detail).to.include({ kind: 'problem', id, meetingId: ann.meeting!.meetingId });
    expect(part(ann, 'feedback-report')).to.equal(null);

    // Too long for the API: said in the dialog, nothing sent.
    const tooLong = ann.reportProblem('x'.repeat(feedback.PROBLEM_TEXT_MAX_LENGTH + 1));
    await waitUntil(() => part(ann, 'feedback-diagnostics')?.querySelector('dl'), 'diagnostics shown', {
      timeout: 5_000,
    });
    part(ann, 'feedback-report')!.querySelector<HTMLButtonElement>('button.primary')!.click();
    await waitUntil(() => part(ann, 'feedback-error')?.textContent?.trim(), 'an error is shown');
    await sendKeys({ press: 'Escape' });
    expect(await tooLong, 'cancelled').to.equal(null);
  });

  it('opens from "Report a problem" under More, and Escape cancels it, focus back on More', async function () {
    this.timeout(30_000);
    const ann = await room(freshRoom('report-more'), 'Ann');
    await join(ann);
    await waitUntil(() => part(ann, 'controls')?.shadowRoot?.querySelector('[part~="more"]'), 'controls');
    const controls = part<MeetControls>(ann, 'controls')!;
    const more = controls.shadowRoot!.querySelector<HTMLButtonElement>('[part~="more"]')!;
    await waitUntil(() => !more.disabled, 'More enabled');
    more.click();
    await controls.updateComplete;
    controls.shadowRoot!.querySelector<HTMLButtonElement>('[part~="report-problem"]')!.click();
    await waitUntil(() => part<HTMLDialogElement>(ann, 'feedback-report')?.open, 'the report opens');
    await sendKeys({ press: 'Escape' });
    await ann.updateComplete;
    expect(part(ann, 'feedback-report')).to.equal(null);
    expect(focused()).to.equal(more);
  });
});
