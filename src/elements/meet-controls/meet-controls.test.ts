import { expect, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { defineElement } from '../../define.js';
import { documentedTokens } from '../../styles/tokens.js';
import {
  contextFixture,
  createFakeCall,
  createFakeRoom,
  fakeParticipant,
  stopFakeMedia,
  type FakeCall,
  type FakeRoom,
} from '../../test-support/fake-call.js';
import { MeetControls } from './meet-controls.js';

defineElement('meet-controls', MeetControls);

const you = fakeParticipant({ id: 'you', name: 'You', joinedAt: 1 });
/** The toolbar's buttons (not what opens under More). */
const buttons = (el: MeetControls) => [
  ...el.shadowRoot!.querySelectorAll<HTMLButtonElement>('button[part~="button"]'),
];
const button = (el: MeetControls, part: string) =>
  el.shadowRoot!.querySelector<HTMLButtonElement>(`button[part~="${part}"]`);
const pressed = (el: MeetControls, part: string) => button(el, part)!.getAttribute('aria-pressed');
/** All six buttons are there, and all disabled (or all enabled). */
const allDisabled = (el: MeetControls, disabled = true) =>
  buttons(el).length === 6 && buttons(el).every((b) => b.disabled === disabled);

async function controls(
  room: FakeRoom = createFakeRoom({ selfId: 'you', participants: [you] }),
  call: FakeCall = createFakeCall(),
) {
  const { el, wrapper, providers } = await contextFixture<MeetControls>(
    html`<meet-controls></meet-controls>`,
    {
      room,
      call,
    },
  );
  return { el, wrapper, providers, room, call };
}

afterEach(stopFakeMedia);

describe('<meet-controls>', () => {
  it('is an accessible toolbar of named buttons', async () => {
    const { el } = await controls();
    await expect(el).to.be.accessible();
    const toolbar = el.shadowRoot!.querySelector('[role="toolbar"]')!;
    expect(toolbar.getAttribute('aria-label')).to.equal('Meeting controls');
    expect(toolbar.getAttribute('part')).to.equal('toolbar');
    expect(buttons(el).map((b) => b.textContent?.trim())).to.deep.equal([
      'Microphone',
      'Camera',
      'Share screen',
      'Raise hand',
      'More',
      'Leave',
    ]);
    expect(buttons(el).every((b) => b.type === 'button' && b.part.contains('button'))).to.be.true;
    expect(button(el, 'leave')!.classList.contains('danger')).to.be.true;
    expect(button(el, 'microphone')!.getAttribute('aria-keyshortcuts')).to.equal('Control+D Meta+D');
    expect(button(el, 'raise-hand')!.getAttribute('aria-keyshortcuts')).to.equal('Control+Alt+H Meta+Alt+H');
    expect(button(el, 'microphone')!.querySelector('svg rect')).to.be.instanceOf(SVGRectElement);
    expect(button(el, 'microphone')!.title).to.match(/^Microphone \((Ctrl\+D|⌘D)\)$/);
  });

  it('is disabled until you have joined', async () => {
    const room = createFakeRoom({ selfId: 'you', participants: [] });
    const { el } = await controls(room);
    expect(buttons(el).map((b) => b.disabled)).to.deep.equal([true, true, true, true, true, true]);
    await expect(el).to.be.accessible();

    room.setState({ participants: [you] });
    await waitUntil(() => allDisabled(el, false), 'enabled once joined');
  });

  it('is disabled without a room client', async () => {
    const { el, providers } = await controls();
    providers.room.setValue(undefined);
    await waitUntil(() => allDisabled(el), 'disabled');
  });

  it('turns the microphone, camera and screen share on and off', async () => {
    const { el, call } = await controls();
    for (const [part, kind] of [
      ['microphone', 'microphone'],
      ['camera', 'camera'],
      ['screen-share', 'screen'],
    ] as const) {
      expect(pressed(el, part), part).to.equal('false');
      button(el, part)!.click();
      await waitUntil(() => pressed(el, part) === 'true', `${part} on`);
      button(el, part)!.click();
      await waitUntil(() => pressed(el, part) === 'false', `${part} off`);
      expect(call.calls.filter((c) => c.kind === kind).map((c) => c.on)).to.deep.equal([true, false]);
    }
    expect(button(el, 'microphone')!.textContent?.trim(), 'the name stays').to.equal('Microphone');
  });

  it('follows media turned on elsewhere', async () => {
    const { el, call } = await controls();
    await call.setCamera(true);
    await el.updateComplete;
    expect(pressed(el, 'camera')).to.equal('true');
  });

  it('raises and lowers your hand', async () => {
    const { el, room } = await controls();
    button(el, 'raise-hand')!.click();
    expect(room.updates).to.deep.equal([{ handRaised: true }]);
    await el.updateComplete;
    expect(pressed(el, 'raise-hand')).to.equal('true');
    button(el, 'raise-hand')!.click();
    expect(room.updates).to.deep.equal([{ handRaised: true }, { handRaised: false }]);
    await el.updateComplete;
    expect(pressed(el, 'raise-hand')).to.equal('false');
  });

  it('has keyboard shortcuts', async () => {
    const { el, call, room } = await controls();
    await sendKeys({ press: 'Control+d' });
    await waitUntil(() => pressed(el, 'microphone') === 'true', 'Ctrl+D turns the microphone on');
    await sendKeys({ press: 'Meta+e' });
    await waitUntil(() => pressed(el, 'camera') === 'true', '⌘E turns the camera on');
    await sendKeys({ press: 'Control+Alt+s' });
    await waitUntil(() => pressed(el, 'screen-share') === 'true', 'Ctrl+Alt+S shares the screen');
    await sendKeys({ press: 'Control+Alt+h' });
    await waitUntil(() => pressed(el, 'raise-hand') === 'true', 'Ctrl+Alt+H raises the hand');
    await sendKeys({ press: 'Control+d' });
    await waitUntil(() => pressed(el, 'microphone') === 'false', 'Ctrl+D turns it off again');
    expect(call.calls.map((c) => `${c.kind} ${c.on}`)).to.deep.equal([
      'microphone true',
      'camera true',
      'screen true',
      'microphone false',
    ]);
    expect(room.updates).to.deep.equal([{ handRaised: true }]);
  });

  it('prevents the browser default for its shortcuts only', async () => {
    await controls();
    const seen: KeyboardEvent[] = [];
    const listener = (event: KeyboardEvent) => seen.push(event);
    document.addEventListener('keydown', listener);
    try {
      await sendKeys({ press: 'Control+e' });
      await sendKeys({ press: 'Control+k' });
    } finally {
      document.removeEventListener('keydown', listener);
    }
    const letters = seen.filter((e) => e.key.length === 1);
    expect(letters.map((e) => [e.key, e.defaultPrevented])).to.deep.equal([
      ['e', true],
      ['k', false],
    ]);
  });

  it('ignores shortcuts while you type', async () => {
    const { wrapper, call } = await controls();
    const input = document.createElement('input');
    input.setAttribute('aria-label', 'Chat');
    wrapper.append(input);
    input.focus();
    await sendKeys({ press: 'Control+d' });
    expect(call.calls).to.deep.equal([]);
  });

  it('stops listening to the keyboard once removed', async () => {
    const { el, call } = await controls();
    el.remove();
    await sendKeys({ press: 'Control+d' });
    expect(call.calls).to.deep.equal([]);
  });

  it('has no screen share button where sharing is not supported', async () => {
    const { el } = await controls(undefined, createFakeCall({ screenShareSupported: false }));
    expect(button(el, 'screen-share')).to.equal(null);
    await sendKeys({ press: 'Control+Alt+s' });
    expect(buttons(el)).to.have.length(5);
    await expect(el).to.be.accessible();
  });

  it('leaves, unless the page cancels meet-leave', async () => {
    const { el, wrapper, room } = await controls();
    const cancel = (event: Event) => event.preventDefault();
    wrapper.addEventListener('meet-leave', cancel, { once: true });
    const first = oneEvent(document.body, 'meet-leave');
    button(el, 'leave')!.click();
    const event = await first;
    expect(event.defaultPrevented).to.be.true;
    expect(event.composed).to.be.true;
    expect(event.detail).to.deep.equal({});
    expect(room.leaves).to.equal(0);

    button(el, 'leave')!.click();
    expect(room.leaves).to.equal(1);
    await waitUntil(() => allDisabled(el), 'nothing to control after leaving');
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`opens data saver and audio only under More, which the meeting remembers (${theme})`, async () => {
      const { el, wrapper } = await controls();
      wrapper.setAttribute('theme', theme);
      el.setAttribute('theme', theme);
      const more = button(el, 'more')!;
      const options = el.shadowRoot!.querySelector<HTMLElement>('[part="options"]')!;
      expect(more.getAttribute('aria-expanded')).to.equal('false');
      expect(options.hidden).to.be.true;
      more.click();
      await el.updateComplete;
      expect(more.getAttribute('aria-expanded')).to.equal('true');
      expect(options.hidden).to.be.false;
      expect(options.checkVisibility()).to.be.true;
      await expect(el).to.be.accessible();

      const box = (name: string) =>
        [...options.querySelectorAll('label')]
          .find((l) => l.textContent.includes(name))!
          .querySelector('input')!;
      expect(box('Data saver').checked).to.be.false;
      box('Data saver').click();
      box('Audio only').click();
      const meeting = el['meeting']!;
      let settings = { dataSaver: false, audioOnly: false };
      const subscription = meeting.receiveSettings$.subscribe((s) => (settings = s));
      expect(settings).to.deep.equal({ dataSaver: true, audioOnly: true });
      box('Audio only').click();
      expect(settings).to.deep.equal({ dataSaver: true, audioOnly: false });
      subscription.unsubscribe();
      await el.updateComplete;
      expect(box('Data saver').checked, 'reflects the setting').to.be.true;

      box('Data saver').focus();
      await sendKeys({ press: 'Escape' });
      await el.updateComplete;
      expect(options.hidden).to.be.true;
      expect(el.shadowRoot!.activeElement).to.equal(more);
    });
  }

  describe('"You are muted"', () => {
    const hint = (el: MeetControls) => el.shadowRoot!.querySelector<HTMLElement>('[part="muted-hint"]');
    const region = (el: MeetControls) => el.shadowRoot!.querySelector('.microphone [role="status"]');

    for (const theme of ['light', 'dark'] as const)
      it(`tells a muted visitor who talks how to unmute, politely, readable in ${theme}`, async () => {
        const call = createFakeCall();
        // Room above it for the hint, so axe sees it on screen and checks its contrast.
        const { el } = await contextFixture<MeetControls>(
          html`<meet-controls theme=${theme}></meet-controls>`,
          { room: createFakeRoom({ selfId: 'you', participants: [you] }), call },
          'padding-top: 8em',
        );
        expect(hint(el)).to.equal(null);
        expect(region(el), 'the live region is there before the hint').to.not.equal(null);
        call.setMutedSpeech(true);
        await el.updateComplete;
        expect(hint(el)!.parentElement, 'in the live region').to.equal(region(el));
        expect(hint(el)!.textContent.replace(/\s+/g, ' ').trim()).to.match(
          /^You are muted\. To talk, turn the microphone on \((Ctrl\+D|⌘D)\)\.$/,
        );
        // Above the microphone button.
        const box = hint(el)!.getBoundingClientRect();
        const button = el.shadowRoot!.querySelector('button[part~="microphone"]')!.getBoundingClientRect();
        expect(box.top, 'on screen').to.be.at.least(0);
        expect(box.bottom).to.be.at.most(button.top);
        expect(box.left).to.equal(button.left);
        await expect(el).to.be.accessible();
      });

    it('goes a while after the talking stops, and at once on unmuting', async () => {
      const { el, call } = await controls();
      call.setMutedSpeech(true);
      await el.updateComplete;
      expect(hint(el)).to.not.equal(null);
      call.setMutedSpeech(false);
      await el.updateComplete;
      expect(hint(el), 'stays a moment after the talking').to.not.equal(null);
      await waitUntil(() => hint(el) === null, 'gone', { timeout: 4_000 });

      await call.setMicrophone(true);
      await call.setMicrophone(false);
      call.setMutedSpeech(true);
      await el.updateComplete;
      expect(hint(el), 'a new mute: shown again').to.not.equal(null);
      await call.setMicrophone(true);
      await el.updateComplete;
      expect(hint(el), 'unmuted').to.equal(null);
    });

    it('is not repeated each time the talking starts again', async () => {
      const { el, call } = await controls();
      call.setMutedSpeech(true);
      call.setMutedSpeech(false);
      await el.updateComplete;
      await waitUntil(() => hint(el) === null, 'gone', { timeout: 4_000 });
      call.setMutedSpeech(true);
      await el.updateComplete;
      expect(hint(el), 'not again so soon').to.equal(null);
    });

    it('is not shown outside the meeting', async () => {
      const room = createFakeRoom({ selfId: 'you', participants: [you] });
      const { el, call } = await controls(room);
      call.setMutedSpeech(true);
      await el.updateComplete;
      expect(hint(el)).to.not.equal(null);
      room.leave();
      await waitUntil(() => allDisabled(el), 'left');
      expect(hint(el)).to.equal(null);
    });
  });

  it('uses only documented --meet-* tokens', () => {
    const styles = (MeetControls.styles as { cssText: string }[]).map((s) => s.cssText).join('\n');
    const used = new Set(styles.match(/--meet-[a-z0-9-]+/g));
    expect([...used].filter((token) => !(token in documentedTokens))).to.deep.equal([]);
  });
});
