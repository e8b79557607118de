import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import { defineElement } from '../../define.js';
import { documentedTokens } from '../../styles/tokens.js';
import { freshRoom, localWorkers } from '../../test-support/local-workers.js';
import '../../meetkit.js';
import { meetingViewStyles } from './meeting-view.styles.js';
import { MeetRoom, REMEMBERED_NAME_KEY } from './meet-room.js';

const shadow = (el: MeetRoom) => el.shadowRoot!;
/** Every button in the element, its inner elements' shadow roots included. */
function allButtons(root: ShadowRoot | Element): HTMLButtonElement[] {
  const found = [...root.querySelectorAll('button')];
  for (const child of root.querySelectorAll('*'))
    if (child.shadowRoot) found.push(...allButtons(child.shadowRoot));
  return found;
}
const button = (el: MeetRoom, name: string) =>
  allButtons(shadow(el)).find((b) => b.textContent?.trim() === name || b.getAttribute('aria-label') === name);
const joinButton = (el: MeetRoom) => button(el, 'Join')!;
const participantNames = (el: MeetRoom) =>
  [...shadow(el).querySelectorAll('[part~="participant"] .name')].map((n) => n.textContent?.trim());

async function lobby(room: string, name = ''): Promise<MeetRoom> {
  const { open } = await localWorkers();
  const el = await fixture<MeetRoom>(html`<meet-room room=${room} server=${open} name=${name}></meet-room>`);
  await waitUntil(() => joinButton(el) && !joinButton(el).disabled, 'lobby ready', { timeout: 5_000 });
  return el;
}

afterEach(() => localStorage.removeItem(REMEMBERED_NAME_KEY));

describe('<meet-room>', () => {
  it('shows an accessible lobby that asks for a name', async () => {
    const el = await lobby(freshRoom('a11y'));
    await expect(el).to.be.accessible();
    expect(shadow(el).querySelector('input')?.labels?.[0]?.textContent).to.contain('Your name');
    expect(shadow(el).textContent).to.contain('Nobody is in the meeting yet');
  });

  it('joins from the keyboard, fires meet-joined and remembers the name', async () => {
    const el = await lobby(freshRoom('keyboard'));
    shadow(el).querySelector('input')!.focus();
    await sendKeys({ type: 'Grace Hopper' });
    const joined = oneEvent(el, 'meet-joined');
    await sendKeys({ press: 'Enter' });
    const { detail } = await joined;
    expect(detail.participant).to.include({ name: 'Grace Hopper', role: 'host' });
    expect(localStorage.getItem(REMEMBERED_NAME_KEY)).to.equal('Grace Hopper');
    await waitUntil(() => participantNames(el).length === 1);
    expect(participantNames(el)).to.deep.equal(['Grace Hopper (you)']);
    await expect(el).to.be.accessible();

    const left = oneEvent(el, 'meet-left');
    await waitUntil(() => button(el, 'Leave') && !button(el, 'Leave')!.disabled);
    button(el, 'Leave')!.click();
    expect((await left).detail.reason).to.equal('left');
  });

  it('prefills the remembered name', async () => {
    localStorage.setItem(REMEMBERED_NAME_KEY, 'Ada');
    const el = await lobby(freshRoom('remembered'));
    expect(shadow(el).querySelector('input')!.value).to.equal('Ada');
  });

  it('shows two participants to each other, arriving and leaving', async () => {
    const room = freshRoom('pair');
    const ann = await lobby(room, 'Ann');
    const bob = await lobby(room, 'Bob');
    const annJoined = oneEvent(ann, 'meet-joined');
    joinButton(ann).click();
    await annJoined;

    const seenByAnn = oneEvent(ann, 'meet-participant-joined');
    const bobJoined = oneEvent(bob, 'meet-joined');
    bob.join();
    expect((await seenByAnn).detail.participant.name).to.equal('Bob');
    await bobJoined;
    await waitUntil(() => participantNames(bob).length === 2);
    expect(participantNames(bob)).to.deep.equal(['Ann', 'Bob (you)']);
    expect(shadow(bob).querySelector('.badge.host')?.closest('li')?.textContent).to.contain('Ann');

    const raised = waitUntil(() =>
      shadow(ann).querySelector('[data-hand-raised]')?.textContent?.includes('Bob'),
    );
    const updated = oneEvent(ann, 'meet-participant-updated');
    await waitUntil(() => button(bob, 'Raise hand') && !button(bob, 'Raise hand')!.disabled);
    button(bob, 'Raise hand')!.click();
    await raised;
    // The page hears what someone else changed, with the new values.
    const { detail: change } = await updated;
    expect(change.participant).to.include({ name: 'Bob', handRaised: true });
    expect(change.changes).to.deep.equal({ handRaised: true });
    await waitUntil(() => button(bob, 'Raise hand')!.getAttribute('aria-pressed') === 'true');

    // Taking the element off the page (a framework unmounting it) leaves the meeting at once.
    const bobLeft = oneEvent(ann, 'meet-participant-left');
    bob.remove();
    const { detail } = await bobLeft;
    expect(detail).to.deep.include({ reason: 'left' });
    expect(detail.participant.name).to.equal('Bob');
    await waitUntil(() => participantNames(ann).length === 1);
  });

  it('previews the camera in the lobby and joins with it on', async () => {
    const el = await lobby(freshRoom('preview'), 'Pia');
    const preview = shadow(el).querySelector('[part="preview"]')!;
    expect(preview.hasAttribute('camera-off')).to.equal(true);
    button(el, 'Camera off')!.click();
    await waitUntil(() => !preview.hasAttribute('camera-off'), 'camera preview', { timeout: 5_000 });
    const video = preview.querySelector('video')!;
    await waitUntil(() => video.readyState >= 2, 'preview plays', { timeout: 5_000 });
    expect(button(el, 'Camera on')!.getAttribute('aria-pressed')).to.equal('true');

    const joined = oneEvent(el, 'meet-joined');
    joinButton(el).click();
    expect((await joined).detail.participant).to.include({ camera: true, microphone: false });
    const grid = shadow(el).querySelector('meet-participant-grid')!;
    await waitUntil(() => grid.shadowRoot?.querySelector('meet-participant-tile[local]:not([camera-off])'));
    button(el, 'Leave')!.click();
    await oneEvent(el, 'meet-left');
  });

  it('says what to do when the camera is blocked, and fires meet-error', async () => {
    const el = await lobby(freshRoom('denied'), 'Dee');
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    try {
      const error = oneEvent(el, 'meet-error');
      button(el, 'Camera off')!.click();
      const { detail } = await error;
      expect(detail).to.include({ code: 'permission-denied', fatal: false });
      await el.updateComplete;
      const alert = shadow(el).querySelector('[part="media-error"]');
      expect(alert?.getAttribute('role')).to.equal('alert');
      expect(alert?.textContent).to.contain('site settings');
      expect(button(el, 'Camera off')!.getAttribute('aria-pressed')).to.equal('false');
    } finally {
      navigator.mediaDevices.getUserMedia = original;
    }
  });

  it('shows what the host page slots instead of the default meeting layout', async () => {
    const { open } = await localWorkers();
    const el = await fixture<MeetRoom>(
      html`<meet-room room=${freshRoom('slotted')} server=${open} name="Sam"
        ><div class="custom"><meet-controls></meet-controls></div
      ></meet-room>`,
    );
    await waitUntil(() => joinButton(el) && !joinButton(el).disabled);
    const slot = shadow(el).querySelector('slot')!;
    expect(slot.closest('[part="meeting"]')!.hasAttribute('hidden')).to.equal(true);
    el.join();
    await oneEvent(el, 'meet-joined');
    await el.updateComplete;
    expect(slot.closest('[part="meeting"]')!.hasAttribute('hidden')).to.equal(false);
    expect(slot.assignedElements()[0]?.className).to.equal('custom');
    // The slotted controls reach the room through context: Leave works.
    const leave = el
      .querySelector('meet-controls')!
      .shadowRoot!.querySelector<HTMLButtonElement>('[part~="leave"]')!;
    await waitUntil(() => !leave.disabled);
    const left = oneEvent(el, 'meet-left');
    leave.click();
    await left;
  });

  it('says "You are muted" to a visitor who talks muted, and fires meet-muted-speech', async () => {
    const el = await lobby(freshRoom('muted-speech'), 'Ann');
    await el.setMicrophone(true);
    const joined = oneEvent(el, 'meet-joined');
    el.join();
    await joined;
    await customElements.whenDefined('meet-controls');
    const hint = () =>
      shadow(el).querySelector('meet-controls')?.shadowRoot?.querySelector('[part="muted-hint"]') ?? null;
    // Chromium's fake microphone beeps every second: talking, as far as anyone can tell.
    const talking = oneEvent(el, 'meet-muted-speech');
    await el.setMicrophone(false);
    expect((await talking).detail).to.deep.equal({ talking: true });
    await waitUntil(() => hint() !== null, 'the hint in the controls');
    expect(hint()!.textContent).to.contain('You are muted.');

    const unmuted = oneEvent(el, 'meet-muted-speech');
    await el.setMicrophone(true);
    expect((await unmuted).detail).to.deep.equal({ talking: false });
    await waitUntil(() => hint() === null, 'gone once unmuted');
  });

  it('lets a host end the meeting for everyone', async () => {
    const room = freshRoom('end');
    const host = await lobby(room, 'Host');
    const guest = await lobby(room, 'Guest');
    host.join();
    await oneEvent(host, 'meet-joined');
    guest.join();
    await oneEvent(guest, 'meet-joined');
    await waitUntil(() => button(host, 'End meeting for all'));
    expect(button(guest, 'End meeting for all')).to.be.undefined;
    const guestLeft = oneEvent(guest, 'meet-left');
    button(host, 'End meeting for all')!.click();
    expect((await guestLeft).detail.reason).to.equal('meeting-ended');
    await waitUntil(() => shadow(guest).textContent?.includes('Host ended the meeting'));
  });

  for (const [label, markup] of [
    ['no room', html`<meet-room server="http://127.0.0.1:9"></meet-room>`],
    ['an invalid room', html`<meet-room room="no spaces allowed" server="http://127.0.0.1:9"></meet-room>`],
  ] as const) {
    it(`shows an error and fires meet-error for ${label}`, async () => {
      const errors: string[] = [];
      const listener = (event: Event) => errors.push((event as CustomEvent).detail.code);
      document.addEventListener('meet-error', listener);
      const el = await fixture<MeetRoom>(markup);
      // An empty room is said once the page has loaded and a moment has passed (a script may still set it).
      await waitUntil(() => errors.length > 0, 'meet-error', { timeout: 3_000 });
      document.removeEventListener('meet-error', listener);
      expect(errors).to.deep.equal(['invalid-room']);
      const alert = shadow(el).querySelector('[role="alert"]');
      expect(alert?.textContent).to.contain('room');
      await expect(el).to.be.accessible();
    });
  }

  it('waits for a room that a script sets a moment after the element, without an error', async () => {
    const { open } = await localWorkers();
    const errors: unknown[] = [];
    const listener = (event: Event) => errors.push((event as CustomEvent).detail);
    document.addEventListener('meet-error', listener);
    try {
      // As on the demo page, or a framework setting attributes after creating the element.
      const el = await fixture<MeetRoom>(html`<meet-room server=${open}></meet-room>`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      el.setAttribute('room', freshRoom('late'));
      await waitUntil(() => joinButton(el) && !joinButton(el).disabled, 'lobby ready', { timeout: 5_000 });
      // Well past the grace an empty room gets: still nothing reported.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(errors).to.deep.equal([]);
      expect(shadow(el).querySelector('[role="alert"]')).to.be.null;
    } finally {
      document.removeEventListener('meet-error', listener);
    }
  });

  it('connects again when the room attribute is fixed', async () => {
    const { open } = await localWorkers();
    const el = await fixture<MeetRoom>(html`<meet-room room="bad room" server=${open}></meet-room>`);
    await waitUntil(() => shadow(el).querySelector('[role="alert"]'));
    el.room = freshRoom('fixed');
    await waitUntil(() => joinButton(el) && !joinButton(el).disabled);
  });

  it('follows prefers-color-scheme unless the theme attribute says otherwise', async () => {
    const el = await fixture<MeetRoom>(html`<meet-room room="x" server="http://127.0.0.1:9"></meet-room>`);
    await emulateMedia({ colorScheme: 'dark' });
    try {
      expect(getComputedStyle(el).backgroundColor).to.equal('rgb(17, 19, 24)');
      el.theme = 'light';
      await el.updateComplete;
      expect(getComputedStyle(el).backgroundColor).to.equal('rgb(255, 255, 255)');
    } finally {
      await emulateMedia({ colorScheme: 'light' });
    }
  });

  it('switches theme with the theme attribute', async () => {
    const el = await fixture<MeetRoom>(
      html`<meet-room room="x" server="http://127.0.0.1:9" theme="dark"></meet-room>`,
    );
    const dark = getComputedStyle(el).backgroundColor;
    el.theme = 'light';
    await el.updateComplete;
    expect(getComputedStyle(el).backgroundColor).to.not.equal(dark);
    el.style.setProperty('--meet-color-background', 'rgb(1, 2, 3)');
    expect(getComputedStyle(el).backgroundColor).to.equal('rgb(1, 2, 3)');
  });

  it('uses only documented --meet-* tokens', () => {
    const styles = [...(MeetRoom.styles as { cssText: string }[]), meetingViewStyles]
      .map((s) => s.cssText)
      .join('\n');
    const used = new Set(styles.match(/--meet-[a-z0-9-]+/g));
    const undocumented = [...used].filter((token) => !(token in documentedTokens));
    expect(undocumented).to.deep.equal([]);
  });

  it('shows its lobby with no other element, and registers the meeting’s a moment later', async () => {
    const el = await lobby(freshRoom('lobby-elements'));
    // Its own markup only: what the lobby needs comes with the room, not with the meeting's chunk.
    const elements = [...shadow(el).querySelectorAll('*')].filter((e) => e.localName.includes('-'));
    expect(elements.map((e) => e.localName)).to.deep.equal([]);
    const later = [
      'meet-participant-grid',
      'meet-participant-tile',
      'meet-controls',
      'meet-device-picker',
      'meet-ai-toggle',
    ];
    await waitUntil(() => later.every((tag) => customElements.get(tag)), "the meeting's elements", {
      timeout: 5_000,
    });
  });

  it('survives being registered twice', () => {
    class Other extends HTMLElement {}
    const warn = console.warn;
    const warnings: unknown[] = [];
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      expect(() => defineElement('meet-room', Other)).not.to.throw();
      expect(() => defineElement('meet-room', MeetRoom)).not.to.throw();
    } finally {
      console.warn = warn;
    }
    expect(warnings).to.have.length(1);
    expect(customElements.get('meet-room')).to.equal(MeetRoom);
  });
});
