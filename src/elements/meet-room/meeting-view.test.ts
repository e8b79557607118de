/**
 * The people list of `<meet-room>`'s meeting view, rendered on its own (the
 * room renders the same template in its shadow root): each person's picture,
 * and their initial when it fails to load.
 */
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { render } from 'lit';
import { themeStyles } from '../../styles/tokens.js';
import { fakeParticipant } from '../../test-support/fake-call.js';
import { avatarStyles } from '../avatar.js';
import { meetingViewStyles, renderMeetingView, type MeetingView } from './meeting-view.js';

const svg =
  '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="teal"/></svg>';

async function peopleList(participants: MeetingView['participants']): Promise<ShadowRoot> {
  const host = await fixture<HTMLElement>(html`<div></div>`);
  const root = host.attachShadow({ mode: 'open' });
  root.adoptedStyleSheets = [themeStyles, avatarStyles, meetingViewStyles].map((style) => style.styleSheet!);
  const view: MeetingView = {
    self: participants[0]!,
    participants,
    speaking: new Set(),
    pinned: null,
    maxTiles: 9,
    aiAvailable: false,
    meeting: undefined,
    actionsFor: null,
    setActionsFor: () => undefined,
    askToRemove: () => undefined,
    showPeople: () => undefined,
  };
  render(renderMeetingView(view), root);
  return root;
}

const row = (root: ShadowRoot, name: string) =>
  [...root.querySelectorAll('[part~="participant"]')].find((li) =>
    li.querySelector('.name')?.textContent?.startsWith(name),
  )!;
const shows = (element: Element | null) => !!element?.checkVisibility({ opacityProperty: true });

describe('the people list', () => {
  let picture: string;
  before(() => (picture = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }))));
  after(() => URL.revokeObjectURL(picture));

  it("shows each person's picture, or their initial when it fails to load", async () => {
    const root = await peopleList([
      fakeParticipant({ id: 'ann', name: 'Ann', role: 'host', picture }),
      fakeParticipant({ id: 'bob', name: 'bob', picture: `${location.origin}/no-such-picture.png` }),
      fakeParticipant({ id: 'cy', name: 'Cy' }),
    ]);
    const ann = row(root, 'Ann').querySelector<HTMLImageElement>('[part="participant-picture"]')!;
    if (!ann.complete) await oneEvent(ann, 'load');
    expect(ann.naturalWidth, "Ann's picture loaded").to.be.greaterThan(0);
    expect(shows(ann)).to.be.true;
    expect(ann.getAttribute('referrerpolicy')).to.equal('no-referrer');

    const bob = row(root, 'bob').querySelector<HTMLImageElement>('[part="participant-picture"]')!;
    if (!bob.hidden) await oneEvent(bob, 'error');
    expect(shows(bob), "Bob's broken picture is hidden").to.be.false;
    const bobAvatar = row(root, 'bob').querySelector('.avatar')!;
    expect(shows(bobAvatar)).to.be.true;
    expect(bobAvatar.textContent).to.equal('B');

    expect(row(root, 'Cy').querySelector('img'), 'no picture, no image').to.be.null;
    expect(row(root, 'Cy').querySelector('.avatar')!.textContent).to.equal('C');
    await expect(root.host).to.be.accessible();
  });
});
