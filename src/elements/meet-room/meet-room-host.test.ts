import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { firstValueFrom } from 'rxjs';
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
/** The text of the host's notice to this visitor ("Hal muted you."), or null while none shows. */
const notice = (el: MeetRoom) => {
  const region = el.shadowRoot!.querySelector('[part="notice"]');
  return region && !region.hasAttribute('hidden')
    ? (region.querySelector('span')?.textContent ?? null)
    : null;
};
/** The question a host answers before removing someone. */
const confirmation = (el: MeetRoom) => el.shadowRoot!.querySelector('[part="host-actions"][role="group"]');
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

    const told = oneEvent<MeetEvent<'meet-moderated'>>(guest, 'meet-moderated');
    button(host, 'Mute Gus')!.click();
    await waitUntil(() => muted(guest, 'Gus (you)'), 'Gus sees his microphone off');
    await waitUntil(() => muted(host, 'Gus'), 'the host sees Gus muted');
    expect(button(host, 'Mute Gus')!.disabled, 'nothing left to mute').to.be.true;
    const { detail } = await told;
    expect(detail.action).to.equal('mute');
    expect(detail.by).to.include({ name: 'Hal', role: 'host' });
    expect(notice(guest), 'Gus is told who').to.equal('Hal muted you.');
    expect(guest.shadowRoot!.querySelector('[part="notice"]')!.getAttribute('role')).to.equal('status');
    await expect(host).to.be.accessible();
  });

  it("lets the host turn a guest's camera off, lower their hand and make them host; the guest is told each time", async () => {
    const { open } = await localWorkers();
    const room = freshRoom('host-actions');
    const host = await lobby(open, room, { name: 'Hal' });
    await join(host);
    const guest = await lobby(open, room, { name: 'Gus' });
    await guest.setCamera(true);
    await join(guest);
    guest.raiseHand();
    await waitUntil(() => row(host, 'Gus')?.hasAttribute('data-hand-raised'), 'Gus raised his hand');
    expect(button(guest, 'More for Hal'), 'a guest has no host actions').to.equal(undefined);

    const more = button(host, 'More for Gus')!;
    expect(more.getAttribute('aria-expanded')).to.equal('false');
    expect(button(host, 'Remove Gus'), 'the menu is closed').to.equal(undefined);
    more.click();
    await host.updateComplete;
    expect(more.getAttribute('aria-expanded')).to.equal('true');
    await expect(host).to.be.accessible();

    const actions = [
      ["Turn off Gus's camera", 'camera-off', 'Hal turned your camera off.'],
      [`Lower Gus's hand`, 'lower-hand', 'Hal lowered your hand.'],
      ['Make Gus a host', 'make-host', 'Hal made you a host.'],
    ] as const;
    for (const [name, action, text] of actions) {
      await waitUntil(() => button(host, name) && !button(host, name)!.disabled, `${name} enabled`);
      const told = oneEvent<MeetEvent<'meet-moderated'>>(guest, 'meet-moderated');
      button(host, name)!.click();
      expect((await told).detail.action).to.equal(action);
      await waitUntil(() => notice(guest) === text, `Gus reads "${text}"`);
      await waitUntil(() => button(host, name)!.disabled, `nothing left for ${name}`);
    }
    expect(guest.participant).to.include({ camera: false, handRaised: false, role: 'host' });
    const grid = guest.shadowRoot!.querySelector('meet-participant-grid')!;
    await waitUntil(
      () => grid.shadowRoot?.querySelector('meet-participant-tile[local][camera-off]'),
      "Gus's own tile shows his camera off",
    );
    expect(button(guest, 'Camera')!.getAttribute('aria-pressed')).to.equal('false');
    expect(row(host, 'Gus')?.hasAttribute('data-hand-raised')).to.be.false;
    expect(row(host, 'Gus')?.querySelector('.badge.host'), 'Gus is a host for Hal').to.exist;
    // Both are hosts now: Gus moderates Hal.
    await waitUntil(() => button(guest, 'More for Hal'), 'Gus has host actions');
    expect(row(guest, 'Hal')?.querySelector('.badge.host'), 'Hal stays host').to.exist;

    guest.shadowRoot!.querySelector<HTMLButtonElement>('[part="notice"] button')!.click();
    await guest.updateComplete;
    expect(guest.shadowRoot!.querySelector('[part="notice"]')!.hasAttribute('hidden')).to.be.true;
  });

  it('asks before removing a guest, who is told who removed them and stays out', async () => {
    const { open } = await localWorkers();
    const room = freshRoom('host-remove');
    const host = await lobby(open, room, { name: 'Hal' });
    await join(host);
    const guest = await lobby(open, room, { name: 'Gus' });
    await join(guest);

    const removeGus = async () => {
      await waitUntil(() => button(host, 'More for Gus'), 'More for Gus');
      button(host, 'More for Gus')!.click();
      await host.updateComplete;
      button(host, 'Remove Gus')!.click();
      await waitUntil(
        () => confirmation(host)?.contains(host.shadowRoot!.activeElement),
        'the question has focus',
      );
    };
    await removeGus();
    expect(confirmation(host)!.getAttribute('aria-label')).to.equal('Remove Gus?');
    expect(host.shadowRoot!.activeElement?.textContent?.trim()).to.equal('Remove');
    await expect(host).to.be.accessible();
    [...confirmation(host)!.querySelectorAll('button')]
      .find((b) => b.textContent?.trim() === 'Cancel')!
      .click();
    await host.updateComplete;
    expect(confirmation(host)).to.equal(null);
    expect(row(host, 'Gus'), 'cancelled: Gus is still in').to.exist;

    await removeGus();
    const left = oneEvent<MeetEvent<'meet-left'>>(guest, 'meet-left');
    const seenByHost = oneEvent<MeetEvent<'meet-participant-left'>>(host, 'meet-participant-left');
    (host.shadowRoot!.activeElement as HTMLButtonElement).click();
    const { detail } = await left;
    expect(detail.reason).to.equal('removed');
    expect(detail.by).to.include({ name: 'Hal' });
    expect((await seenByHost).detail).to.deep.include({ reason: 'removed' });
    await waitUntil(() => !row(host, 'Gus'), 'Gus is gone from the host’s list');

    await guest.updateComplete;
    const status = [...guest.shadowRoot!.querySelectorAll('[part="status"]')].find(
      (s) => !s.hasAttribute('hidden'),
    );
    expect(status?.textContent?.trim()).to.equal('Hal removed you from the meeting.');
    expect(status?.getAttribute('role')).to.equal('status');
    expect(guest.phase).to.equal('left');
    expect(button(guest, 'Join'), 'no lobby to join again from').to.equal(undefined);
    expect(
      await firstValueFrom(guest.meeting!.connection$),
      'the page does not come back by itself',
    ).to.equal('closed');
    await expect(guest).to.be.accessible();
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

  it("keeps a removed guest's token out of the room", async () => {
    const { secured } = await localWorkers();
    const room = freshRoom('token-removed');
    const host = await lobby(secured, room, { token: await joinToken(room, 'Hana', 'host') });
    await join(host);
    const gilToken = await joinToken(room, 'Gil', 'guest');
    const guest = await lobby(secured, room, { token: gilToken });
    await join(guest);
    const left = oneEvent<MeetEvent<'meet-left'>>(guest, 'meet-left');
    host.removeParticipant(guest.participant!.id);
    expect((await left).detail.reason).to.equal('removed');
    guest.remove();

    // The same invitation, in a new page.
    const errors: { code: string; fatal: boolean }[] = [];
    const listener = (event: Event) => errors.push((event as MeetEvent<'meet-error'>).detail);
    document.addEventListener('meet-error', listener);
    try {
      const again = await fixture<MeetRoom>(
        html`<meet-room room=${room} server=${secured} token=${gilToken}></meet-room>`,
      );
      await waitUntil(() => errors.length > 0, 'refused', { timeout: 5_000 });
      expect(errors).to.deep.equal([
        {
          code: 'removed',
          message: 'Hana removed you from this meeting: this invitation cannot be used to join it again.',
          fatal: true,
        },
      ]);
      await again.updateComplete;
      expect(again.shadowRoot!.querySelector('[part="status"]')?.textContent?.trim()).to.equal(
        'Hana removed you from this meeting: this invitation cannot be used to join it again.',
      );
      expect(button(again, 'Join'), 'no lobby').to.equal(undefined);
    } finally {
      document.removeEventListener('meet-error', listener);
    }
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
