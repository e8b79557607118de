import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { defineElement } from '../../define.js';
import type { MeetEvent } from '../../events/meet-events.js';
import { freshRoom, localWorkers } from '../../test-support/local-workers.js';
import { MeetRoom } from './meet-room.js';

defineElement('meet-room', MeetRoom);

/** Every button in the element, inside its inner elements' shadow roots too. */
function allButtons(root: ShadowRoot | Element): HTMLButtonElement[] {
  const found = [...root.querySelectorAll('button')];
  for (const child of root.querySelectorAll('*'))
    if (child.shadowRoot) found.push(...allButtons(child.shadowRoot));
  return found;
}
const button = (el: MeetRoom, name: string) =>
  allButtons(el.shadowRoot!).find(
    (b) => b.textContent?.trim() === name || b.getAttribute('aria-label') === name,
  );
const row = (el: MeetRoom, name: string) =>
  [...el.shadowRoot!.querySelectorAll('[part~="participant"]')].find(
    (li) => li.querySelector('.name')?.textContent?.trim() === name,
  );

/** A join token for the secured Worker, signed by the test runner with its secret. */
async function joinToken(room: string, name: string, role: 'host' | 'guest'): Promise<string> {
  const query = new URLSearchParams({ room, name, role });
  const { token } = (await (await fetch(`/__meetkit__/join-token?${query.toString()}`)).json()) as {
    token: string;
  };
  return token;
}

async function lobby(server: string, room: string, { name = '', token = '' } = {}): Promise<MeetRoom> {
  const el = await fixture<MeetRoom>(
    html`<meet-room room=${room} server=${server} name=${name} token=${token}></meet-room>`,
  );
  await waitUntil(() => button(el, 'Join') && !button(el, 'Join')!.disabled, 'lobby ready', {
    timeout: 5_000,
  });
  return el;
}

async function join(el: MeetRoom, name?: string) {
  const joined = oneEvent<MeetEvent<'meet-joined'>>(el, 'meet-joined');
  expect(el.join(name), 'join starts').to.be.true;
  return (await joined).detail.participant;
}

describe('<meet-room> hosts and join tokens', () => {
  it("lets the host mute a guest from the people list, which turns the guest's microphone off", async () => {
    const { open } = await localWorkers();
    const room = freshRoom('host-mute');
    const host = await lobby(open, room, { name: 'Hal' });
    expect(await join(host)).to.include({ role: 'host' });
    const guest = await lobby(open, room, { name: 'Gus' });
    await guest.setMicrophone(true);
    expect(await join(guest)).to.include({ role: 'guest', microphone: true });

    await waitUntil(
      () => button(host, 'Mute Gus') && !button(host, 'Mute Gus')!.disabled,
      'Mute Gus enabled',
    );
    expect(button(guest, 'Mute Hal'), 'a guest cannot mute anyone').to.equal(undefined);
    const muted = (el: MeetRoom, name: string) => !!row(el, name)?.querySelector('.badge.muted');
    expect(muted(guest, 'Gus (you)'), 'Gus talks').to.be.false;

    button(host, 'Mute Gus')!.click();
    await waitUntil(() => muted(guest, 'Gus (you)'), 'Gus sees his microphone off');
    await waitUntil(() => muted(host, 'Gus'), 'the host sees Gus muted');
    expect(button(host, 'Mute Gus')!.disabled, 'nothing left to mute').to.be.true;
    await expect(host).to.be.accessible();
  });

  it('joins a secured room with the name and role its token gives', async () => {
    const { secured } = await localWorkers();
    const room = freshRoom('token');
    const host = await lobby(secured, room, { token: await joinToken(room, 'Hana', 'host') });
    // The token decides: a name typed in the lobby cannot change it.
    expect(await join(host, 'Someone else')).to.include({ name: 'Hana', role: 'host' });
    const guest = await lobby(secured, room, { token: await joinToken(room, 'Gil', 'guest') });
    expect(await join(guest, 'Gil')).to.include({ name: 'Gil', role: 'guest' });
    await waitUntil(() => button(host, 'Mute Gil'), "the token's host moderates");
  });

  it('says why a secured room refuses it, and connects once its token is fixed', async () => {
    const { secured } = await localWorkers();
    const room = freshRoom('token-refused');
    const errors: string[] = [];
    const listener = (event: Event) => errors.push((event as CustomEvent<{ code: string }>).detail.code);
    document.addEventListener('meet-error', listener);
    try {
      const el = await fixture<MeetRoom>(
        html`<meet-room room=${room} server=${secured} token="not-a-token"></meet-room>`,
      );
      await waitUntil(() => el.shadowRoot!.querySelector('[part="error"]'), 'the error shows', {
        timeout: 5_000,
      });
      expect(errors).to.deep.equal(['unauthorized']);
      expect(el.shadowRoot!.querySelector('[part="error"]')!.getAttribute('role')).to.equal('alert');
      expect(button(el, 'Join'), 'no lobby').to.equal(undefined);

      el.token = await joinToken(room, 'Tia', 'guest');
      await waitUntil(() => button(el, 'Join') && !button(el, 'Join')!.disabled, 'lobby ready', {
        timeout: 5_000,
      });
      expect(el.shadowRoot!.querySelector('[part="error"]')).to.equal(null);
      expect(await join(el, 'Tia')).to.include({ name: 'Tia', role: 'guest' });
    } finally {
      document.removeEventListener('meet-error', listener);
    }
  });
});
