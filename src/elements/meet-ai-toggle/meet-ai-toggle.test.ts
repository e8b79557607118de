import { expect, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys, sendMouse } from '@web/test-runner-commands';
import type { RoomState } from '../../client/room-state.js';
import { defineElement } from '../../define.js';
import type { Participant } from '../../protocol/index.js';
import {
  contextFixture,
  createFakeCall,
  createFakeRoom,
  fakeParticipant,
  stopFakeMedia,
  type FakeRoom,
} from '../../test-support/fake-call.js';
import { MeetAiToggle } from './meet-ai-toggle.js';

defineElement('meet-ai-toggle', MeetAiToggle);

const host = fakeParticipant({ id: 'you', name: 'You', role: 'host', joinedAt: 1 });
const speaking = { microphone: true, tracks: { microphone: 'session-you/mic' } };
const bob = fakeParticipant({ id: 'bob', name: 'Bob', joinedAt: 2, ...speaking });
const agent = (aiState: Participant['aiState']) =>
  fakeParticipant({ id: 'ai', name: 'AI', role: 'agent', joinedAt: 3, aiState, microphone: true });
const withAi = (changes: Partial<RoomState['ai']> = {}): Pick<RoomState, 'ai'> => ({
  ai: { available: true, talker: null, manage: 'host', ...changes },
});

const part = (el: MeetAiToggle, name: string) =>
  el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);
const text = (el: MeetAiToggle, name: string) => part(el, name)?.textContent?.trim() ?? null;
const talk = (el: MeetAiToggle) => part(el, 'talk') as HTMLButtonElement | null;

async function toggle(room: FakeRoom) {
  const call = createFakeCall();
  const { el } = await contextFixture<MeetAiToggle>(html`<meet-ai-toggle></meet-ai-toggle>`, { room, call });
  return { el, room, call };
}

/** A meeting with you (holding a published microphone unless told) and the agent listening. */
const meetingWithAgent = (you: Participant = { ...host, ...speaking }, ai = withAi()) =>
  createFakeRoom({ selfId: 'you', participants: [you, bob, agent('listening')], ...ai });

/** The centre of an element, in the page's CSS pixels, for `sendMouse`. */
function centre(element: Element): [number, number] {
  const box = element.getBoundingClientRect();
  return [Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2)];
}

afterEach(async () => {
  await sendMouse({ type: 'up' }).catch(() => undefined);
  stopFakeMedia();
});

describe('<meet-ai-toggle>', () => {
  it('says when this server has no AI, and offers nothing', async () => {
    const { el } = await toggle(createFakeRoom({ selfId: 'you', participants: [host] }));
    expect(text(el, 'state')).to.equal('The AI is not available here.');
    expect(el.shadowRoot!.querySelectorAll('button')).to.have.length(0);
    await expect(el).to.be.accessible();
  });

  it('lets those the room allows invite the AI, and tells the others who can', async () => {
    const { el, room } = await toggle(createFakeRoom({ selfId: 'you', participants: [host], ...withAi() }));
    expect(text(el, 'state')).to.equal('The AI is not in the meeting.');
    expect(text(el, 'invite')).to.equal('Invite AI');
    expect(el.state).to.equal('off');
    await expect(el).to.be.accessible();
    part(el, 'invite')!.click();
    expect(room.aiRequests).to.deep.equal([{ type: 'ai-invite' }]);

    // A guest, where hosts manage it: no Invite; where anyone may, an Invite.
    room.setState({ participants: [{ ...host, role: 'guest' }] });
    await waitUntil(() => !part(el, 'invite'), 'no invite for a guest');
    room.setState(withAi({ manage: 'anyone' }));
    await waitUntil(() => part(el, 'invite'), 'an invite when anyone may');
  });

  it("follows the agent's state, and fires meet-ai-state on each change", async () => {
    const room = createFakeRoom({ selfId: 'you', participants: [host], ...withAi() });
    const { el } = await toggle(room);
    const states: string[] = [];
    el.addEventListener('meet-ai-state', (event) => states.push(event.detail.state));
    room.setState({ participants: [host, agent('connecting')] });
    await waitUntil(() => el.state === 'connecting');
    expect(text(el, 'state')).to.equal('The AI is joining…');
    expect(talk(el)!.disabled, 'nothing to talk to yet').to.be.true;
    room.setState({ participants: [host, agent('listening')] });
    await waitUntil(() => el.state === 'listening');
    expect(el.getAttribute('state')).to.equal('listening');
    expect(text(el, 'remove')).to.equal('Remove AI');
    expect(talk(el)!.disabled).to.be.false;
    part(el, 'remove')!.click();
    expect(room.aiRequests).to.deep.equal([{ type: 'ai-remove' }]);
    room.setState({ participants: [host] });
    await waitUntil(() => el.state === 'off');
    expect(states).to.deep.equal(['connecting', 'listening', 'off']);
  });

  it('talks while the button is held down, and lets go when it comes up', async () => {
    const room = meetingWithAgent();
    const { el } = await toggle(room);
    expect(talk(el)!.getAttribute('aria-pressed')).to.equal('false');
    await sendMouse({ type: 'move', position: centre(talk(el)!) });
    await sendMouse({ type: 'down' });
    await waitUntil(() => room.aiRequests.length === 1, 'asked to talk');
    expect(room.aiRequests[0]).to.deep.equal({ type: 'ai-talk', on: true });
    await waitUntil(() => talk(el)!.getAttribute('aria-pressed') === 'true', 'pressed while held');
    room.setState(withAi({ talker: 'you' }));
    await waitUntil(() => text(el, 'talker') === 'You are talking to the AI.');
    await sendMouse({ type: 'up' });
    expect(room.aiRequests.at(-1)).to.deep.equal({ type: 'ai-talk', on: false });
    await waitUntil(() => talk(el)!.getAttribute('aria-pressed') === 'false', 'released');
    expect(room.aiRequests).to.have.length(2);
  });

  it('holds with Space on the focused button, and with Ctrl+Alt+A anywhere but a text field', async () => {
    const room = meetingWithAgent();
    const { el } = await toggle(room);
    talk(el)!.focus();
    await sendKeys({ down: ' ' });
    await waitUntil(() => room.aiRequests.length === 1, 'Space down: talk');
    await sendKeys({ up: ' ' });
    expect(room.aiRequests).to.deep.equal([
      { type: 'ai-talk', on: true },
      { type: 'ai-talk', on: false },
    ]);
    talk(el)!.blur();
    expect(talk(el)!.getAttribute('aria-keyshortcuts')).to.equal('Control+Alt+A Meta+Alt+A');

    await sendKeys({ down: 'Control' });
    await sendKeys({ down: 'Alt' });
    await sendKeys({ down: 'a' });
    await waitUntil(() => room.aiRequests.length === 3, 'the shortcut held: talk');
    await sendKeys({ up: 'a' });
    await sendKeys({ up: 'Alt' });
    await sendKeys({ up: 'Control' });
    expect(room.aiRequests.slice(2)).to.deep.equal([
      { type: 'ai-talk', on: true },
      { type: 'ai-talk', on: false },
    ]);

    const input = document.createElement('input');
    document.body.append(input);
    try {
      input.focus();
      await sendKeys({ press: 'Control+Alt+a' });
      expect(room.aiRequests, 'typing is not talking').to.have.length(4);
    } finally {
      input.remove();
    }
  });

  it('turns the microphone on to talk, and asks once it is published', async () => {
    const room = meetingWithAgent({ ...host });
    const { el, call } = await toggle(room);
    await sendMouse({ type: 'move', position: centre(talk(el)!) });
    await sendMouse({ type: 'down' });
    await waitUntil(() => call.calls.some((c) => c.kind === 'microphone' && c.on), 'microphone turned on');
    expect(room.aiRequests, 'not before the room has the microphone').to.deep.equal([]);
    // What the meeting announces once the call has published it.
    room.update(speaking);
    await waitUntil(() => room.aiRequests.length === 1, 'asked once published');
    await sendMouse({ type: 'up' });
    expect(room.aiRequests).to.deep.equal([
      { type: 'ai-talk', on: true },
      { type: 'ai-talk', on: false },
    ]);
  });

  it('shows who holds it when the room says busy, and stops pressing', async () => {
    const room = meetingWithAgent(undefined, withAi({ talker: 'bob' }));
    const { el } = await toggle(room);
    expect(text(el, 'talker')).to.equal('Bob is talking to the AI.');
    talk(el)!.focus();
    await sendKeys({ down: ' ' });
    await waitUntil(() => room.aiRequests.length === 1);
    room.fail({ code: 'ai-busy', message: 'Someone else is talking to the AI', fatal: false, holder: 'bob' });
    await waitUntil(() => part(el, 'error'), 'the refusal is shown');
    expect(text(el, 'error')).to.equal('Bob is talking to the AI. Wait for them to finish.');
    expect(part(el, 'error')!.getAttribute('role')).to.equal('alert');
    await waitUntil(() => talk(el)!.getAttribute('aria-pressed') === 'false', 'not pressed');
    await sendKeys({ up: ' ' });
    expect(room.aiRequests, 'nothing to let go of').to.have.length(1);
    await expect(el).to.be.accessible();
  });

  it('lets go when the room ends the turn (the maximum hold)', async () => {
    const room = meetingWithAgent();
    const { el } = await toggle(room);
    talk(el)!.focus();
    await sendKeys({ down: ' ' });
    await waitUntil(() => room.aiRequests.length === 1, 'asked to talk');
    room.setState(withAi({ talker: 'you' }));
    await waitUntil(() => talk(el)!.getAttribute('aria-pressed') === 'true');
    room.setState(withAi({ talker: null }));
    await waitUntil(() => talk(el)!.getAttribute('aria-pressed') === 'false', 'the room let go');
    await sendKeys({ up: ' ' });
    expect(room.aiRequests).to.deep.equal([{ type: 'ai-talk', on: true }]);
  });

  it('fires meet-ai-caption as the answer grows, and announces the whole answer politely', async () => {
    const room = meetingWithAgent();
    const { el } = await toggle(room);
    const captions: { text: string; final: boolean }[] = [];
    el.addEventListener('meet-ai-caption', (event) => captions.push(event.detail));
    const caption = (text: string, final: boolean) =>
      room.emit({ type: 'ai-caption', agentId: 'ai', text, final });
    caption('Hello', false);
    caption(', Bob', false);
    const whole = oneEvent(el, 'meet-ai-caption');
    caption('Hello, Bob.', true);
    await whole;
    expect(captions).to.deep.equal([
      { text: 'Hello', final: false },
      { text: 'Hello, Bob', final: false },
      { text: 'Hello, Bob.', final: true },
    ]);
    await waitUntil(() => text(el, 'caption') === 'Hello, Bob.');
    expect(part(el, 'caption')!.getAttribute('aria-live')).to.equal('polite');
    caption('Next', false);
    await waitUntil(() => captions.length === 4);
    expect(captions[3]).to.deep.equal({ text: 'Next', final: false });
    await expect(el).to.be.accessible();
  });

  it('offers Retry to a host when the AI failed', async () => {
    const room = createFakeRoom({ selfId: 'you', participants: [host, agent('error')], ...withAi() });
    const { el } = await toggle(room);
    expect(text(el, 'state')).to.equal('The AI ran into a problem and left the call.');
    expect(talk(el)).to.be.null;
    expect(text(el, 'invite')).to.equal('Retry');
    part(el, 'invite')!.click();
    expect(room.aiRequests).to.deep.equal([{ type: 'ai-invite' }]);
  });
});
