import { ContextProvider } from '@lit/context';
import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { render } from 'lit';
import type { RemoteMedia } from '../../client/call-types.js';
import { createDevices } from '../../client/devices.js';
import { applyServerMessage } from '../../client/room-state.js';
import { defineElement } from '../../define.js';
import type { Participant } from '../../protocol/index.js';
import {
  contextFixture,
  createFakeCall,
  createFakeRoom,
  fakeDeviceStream,
  fakeParticipant,
  fakeScreenStream,
  provideContexts,
  stopFakeMedia,
  type FakeCall,
  type FakeRoom,
} from '../../test-support/fake-call.js';
import { devicesContext } from '../devices-context.js';
import { MeetParticipantTile } from '../meet-participant-tile/meet-participant-tile.js';
import {
  FIRST_FRAME,
  animationFrames,
  recordTileFrames,
  shownBy,
} from '../meet-participant-tile/tile-frames.test-support.js';
import { gridLayout, spotlightLayout } from './layout.js';
import { MeetParticipantGrid } from './meet-participant-grid.js';

// The grid alone: it registers the tiles it renders.
defineElement('meet-participant-grid', MeetParticipantGrid);

const you = fakeParticipant({ id: 'you', name: 'You', joinedAt: 30, camera: true, microphone: true });
const ann = fakeParticipant({ id: 'ann', name: 'Ann', joinedAt: 10, camera: true });
const bob = fakeParticipant({ id: 'bob', name: 'Bob', joinedAt: 20 });

/** The tiles as the DOM holds them. */
const tilesInDom = (el: MeetParticipantGrid) => [...el.shadowRoot!.querySelectorAll('meet-participant-tile')];
/** The tiles in the order the layout places them (and a screen reader counts them). */
const tiles = (el: MeetParticipantGrid) =>
  tilesInDom(el).sort((a, b) => Number(a.ariaPosInSet) - Number(b.ariaPosInSet));
const labelOf = (tile: MeetParticipantTile) =>
  tile.shadowRoot!.querySelector('[role="group"]')?.getAttribute('aria-label');
const labels = (el: MeetParticipantGrid) => tiles(el).map(labelOf);
const size = (tile: Element) => {
  const { width, height } = tile.getBoundingClientRect();
  return { width, height };
};

async function grid(
  room: FakeRoom,
  call: FakeCall,
  { width = 800, height = 450 } = {},
): Promise<{ el: MeetParticipantGrid; wrapper: HTMLDivElement }> {
  const { el, wrapper } = await contextFixture<MeetParticipantGrid>(
    html`<meet-participant-grid style="height: 100%"></meet-participant-grid>`,
    { room, call },
    `width: ${width}px; height: ${height}px`,
  );
  await waitUntil(
    () => tiles(el).length > 0 && tiles(el).every((t) => t.getBoundingClientRect().width > 0),
    'laid out',
  );
  return { el, wrapper };
}

const joined = (participants: Participant[], selfId = 'you') => createFakeRoom({ selfId, participants });

afterEach(stopFakeMedia);

describe('<meet-participant-grid>', () => {
  it('is an accessible list of participants', async () => {
    const { el } = await grid(joined([ann, bob, you]), createFakeCall());
    await expect(el).to.be.accessible();
    const list = el.shadowRoot!.querySelector('[role="list"]')!;
    expect(list.getAttribute('aria-label')).to.equal('Participants');
    expect(tiles(el).map((t) => t.getAttribute('role'))).to.deep.equal(['listitem', 'listitem', 'listitem']);
    expect(tiles(el).map((t) => [t.ariaPosInSet, t.ariaSetSize])).to.deep.equal([
      ['1', '3'],
      ['2', '3'],
      ['3', '3'],
    ]);
  });

  it('registers the tiles it renders', async () => {
    expect(customElements.get('meet-participant-tile')).to.equal(MeetParticipantTile);
    const { el } = await grid(joined([ann, you]), createFakeCall());
    expect(tiles(el).map((tile) => tile.constructor)).to.deep.equal([
      MeetParticipantTile,
      MeetParticipantTile,
    ]);
  });

  it('shows one tile per participant, sized by the layout', async () => {
    const { el } = await grid(joined([ann, bob, you]), createFakeCall());
    const { tileWidth, tileHeight } = gridLayout({ width: 800, height: 450, count: 3 });
    expect(tiles(el)).to.have.length(3);
    for (const tile of tiles(el)) expect(size(tile)).to.deep.equal({ width: tileWidth, height: tileHeight });
    for (const tile of tiles(el)) expect(tile.getAttribute('part')).to.equal('tile');
  });

  it('lets the page style the tiles inside it', async () => {
    const { el } = await grid(joined([ann, you]), createFakeCall());
    const style = document.createElement('style');
    style.textContent = 'meet-participant-grid::part(tile-name) { text-transform: uppercase; }';
    document.head.append(style);
    try {
      const name = tiles(el)[1]!.shadowRoot!.querySelector('[part="name"]')!;
      expect(getComputedStyle(name).textTransform).to.equal('uppercase');
    } finally {
      style.remove();
    }
  });

  it('shows nothing before anyone joins, and no tiles without clients', async () => {
    const { el, providers } = await contextFixture<MeetParticipantGrid>(
      html`<meet-participant-grid></meet-participant-grid>`,
      { room: createFakeRoom(), call: createFakeCall() },
    );
    expect(tiles(el)).to.have.length(0);
    providers.room.setValue(joined([ann]));
    await waitUntil(() => tiles(el).length === 1, 'a new room client is followed');
    providers.room.setValue(undefined);
    await waitUntil(() => tiles(el).length === 0, 'no room client, no tiles');
  });

  it('puts you first, then screen shares, then the others by join time', async () => {
    const room = joined([ann, bob, you]);
    const call = createFakeCall();
    const { el } = await grid(room, call);
    expect(labels(el)).to.deep.equal(['You (you)', 'Ann', 'Bob']);

    call.setRemote(new Map([['bob', { stream: new MediaStream(), screen: fakeScreenStream() }]]));
    await waitUntil(() => tiles(el).length === 4);
    expect(labels(el)).to.deep.equal(['You (you)', "Bob's screen", 'Ann', 'Bob']);
  });

  it('gives you the local camera and the others their own media', async () => {
    const call = createFakeCall();
    const annMedia = await fakeDeviceStream();
    call.setRemote(new Map([['ann', { stream: annMedia, screen: null }]]));
    const { el } = await grid(joined([ann, bob, you]), call);
    await call.setCamera(true);
    await waitUntil(() => tiles(el)[0]!.stream !== null, 'your camera');
    const [mine, anns, bobs] = tiles(el);
    expect(mine!.local).to.be.true;
    expect(mine!.stream).to.equal(call.local.cameraStream);
    expect(anns!.local).to.be.false;
    expect(anns!.stream).to.equal(annMedia);
    expect(bobs!.stream).to.equal(null);
    expect(bobs!.hasAttribute('camera-off')).to.be.true;
    const video = mine!.shadowRoot!.querySelector('video')!;
    await waitUntil(() => video.readyState >= 2 && !video.paused, 'your camera plays', FIRST_FRAME);
  });

  it('shows a screen share large, with the others beside it', async () => {
    const call = createFakeCall();
    const { el } = await grid(joined([ann, bob, you]), call, { width: 1000, height: 500 });
    await call.setScreenShare(true);
    await waitUntil(() => tiles(el).length === 4, 'your screen appears');

    const spotlit = tiles(el).filter((t) => t.part.contains('spotlight'));
    expect(spotlit).to.have.length(1);
    expect(spotlit[0]!.screenShare).to.be.true;
    expect(spotlit[0]!.stream).to.equal(call.local.screenStream);
    const { spotlight, others } = spotlightLayout({ width: 1000, height: 500, count: 3 });
    expect(size(spotlit[0]!)).to.deep.equal({ width: spotlight.width, height: spotlight.height });
    for (const tile of tiles(el).filter((t) => t !== spotlit[0]))
      expect(size(tile)).to.deep.equal({ width: others[0]!.width, height: others[0]!.height });

    await call.setScreenShare(false);
    await waitUntil(() => tiles(el).length === 3, 'back to the grid');
    expect(tiles(el).some((t) => t.part.contains('spotlight'))).to.be.false;
  });

  it('lays out again when resized', async () => {
    const { el, wrapper } = await grid(
      joined([ann, bob, you, fakeParticipant({ id: 'cy', name: 'Cy' })]),
      createFakeCall(),
    );
    const before = gridLayout({ width: 800, height: 450, count: 4 });
    expect(size(tiles(el)[0]!).width).to.equal(before.tileWidth);

    wrapper.style.width = '400px';
    wrapper.style.height = '900px';
    const after = gridLayout({ width: 400, height: 900, count: 4 });
    expect(after.columns).to.equal(1);
    await waitUntil(() => size(tiles(el)[0]!).width === after.tileWidth, 'narrow layout');
    const tops = tiles(el).map((t) => t.getBoundingClientRect().top);
    expect(new Set(tops).size, 'one column').to.equal(4);
  });

  it('keeps tiles (and their video) as people come, go and change', async () => {
    const room = joined([ann, bob, you]);
    const { el } = await grid(room, createFakeCall());
    const [mine, anns, bobs] = tiles(el);

    const early = fakeParticipant({ id: 'eve', name: 'Eve', joinedAt: 1 });
    room.setState({ participants: [early, ann, { ...bob, handRaised: true }, you] });
    await waitUntil(() => tiles(el).length === 4);
    expect(tiles(el)).to.deep.equal([mine, tiles(el)[1], anns, bobs]);
    expect(labels(el)[1]).to.equal('Eve');
    expect(bobs!.hasAttribute('hand-raised')).to.be.true;

    room.setState({ participants: [early, bob, you] });
    await waitUntil(() => tiles(el).length === 3);
    expect(labels(el)).to.deep.equal(['You (you)', 'Eve', 'Bob']);
    expect(tiles(el)[2]).to.equal(bobs);
  });

  it('never moves a tile in the DOM: the layout alone places it', async () => {
    const room = joined([ann, bob, you]);
    const call = createFakeCall();
    const { el } = await grid(room, call);
    const moved: string[] = [];
    const list = el.shadowRoot!.querySelector('[role="list"]')!;
    const observer = new MutationObserver((records) => {
      for (const record of records)
        for (const node of record.removedNodes)
          if (node instanceof MeetParticipantTile && node.isConnected) moved.push(labelOf(node)!);
    });
    observer.observe(list, { childList: true });
    try {
      const eve = fakeParticipant({ id: 'eve', name: 'Eve', joinedAt: 1 });
      room.setState({ participants: [eve, ann, bob, you] });
      await call.setScreenShare(true);
      await waitUntil(() => tiles(el).length === 5, 'Eve and your screen arrive');
      expect(labels(el)).to.deep.equal(['You (you)', "You's screen (you)", 'Eve', 'Ann', 'Bob']);
      // Ann drops out and comes back: now she is the latest to have joined.
      room.setState({ participants: [eve, bob, you, { ...ann, joinedAt: 40 }] });
      await call.setScreenShare(false);
      await waitUntil(() => labels(el).join() === 'You (you),Eve,Bob,Ann', 'Ann last, no screen');
      const { tileWidth } = gridLayout({ width: 800, height: 450, count: 4 });
      await waitUntil(() => tiles(el).every((t) => size(t).width === tileWidth), 'laid out for four');
      const lefts = tiles(el).map((t) => t.getBoundingClientRect().left);
      expect(lefts[3], 'Ann is placed last').to.be.greaterThan(lefts[2]!);
    } finally {
      observer.disconnect();
    }
    expect(moved).to.deep.equal([]);
  });

  it("shows each tile's initial or a video frame in every frame, as cameras turn on and a screen is shared", async () => {
    const room = joined([ann, bob, { ...you, camera: false }]);
    const call = createFakeCall();
    const anns: RemoteMedia = { stream: await fakeDeviceStream(), screen: null };
    call.setRemote(new Map([['ann', anns]]));
    const { el } = await grid(room, call);
    const byLabel = (label: string) => tiles(el).find((tile) => labelOf(tile) === label);
    const showsVideo = (label: string) =>
      waitUntil(
        () => byLabel(label) && shownBy(byLabel(label)!) === 'video',
        `${label} shows video`,
        FIRST_FRAME,
      );
    await showsVideo('Ann');
    const frames = recordTileFrames(() => tiles(el));

    await call.setCamera(true);
    room.update({ camera: true });
    await showsVideo('You (you)');
    const bobs: RemoteMedia = { stream: await fakeDeviceStream(), screen: null };
    call.setRemote(
      new Map([
        ['ann', anns],
        ['bob', bobs],
      ]),
    );
    room.setState({
      participants: room.state.participants.map((p) => (p.id === 'bob' ? { ...p, camera: true } : p)),
    });
    await showsVideo('Bob');

    await call.setScreenShare(true);
    await showsVideo("You's screen (you)");
    // waitUntil polls between frames: let one frame pass so the recorder sees the video it saw.
    await animationFrames(1);
    await call.setScreenShare(false);
    await waitUntil(() => tiles(el).length === 3, 'the screen share is gone');
    const { tileWidth } = gridLayout({ width: 800, height: 450, count: 3 });
    await waitUntil(() => tiles(el).every((t) => size(t).width === tileWidth), 'back to the grid');
    await Promise.all(['You (you)', 'Ann', 'Bob'].map(showsVideo));

    const shown = Object.fromEntries([...frames.stop()].map(([label, seen]) => [label, seen.join(' → ')]));
    const { "You's screen (you)": screen, ...cameras } = shown;
    expect(cameras).to.deep.equal({ 'You (you)': 'avatar → video', Ann: 'video', Bob: 'avatar → video' });
    // Sampled while it was shared; its first frame may come before the next paint, its initial unseen.
    expect(screen).to.match(/^(avatar → )?video$/);
  });

  it('rings the tiles of who is speaking, never a screen share, and says so', async () => {
    const call = createFakeCall();
    const { el } = await grid(joined([ann, bob, you]), call);
    await call.setScreenShare(true);
    await waitUntil(() => tiles(el).length === 4, 'your screen too');
    const speaking = () =>
      tiles(el)
        .filter((t) => t.speaking)
        .map(labelOf);
    expect(speaking()).to.deep.equal([]);
    call.setSpeaking(['ann', 'you']);
    await waitUntil(() => speaking().length === 2, 'Ann and you speak');
    expect(speaking().sort()).to.deep.equal(['Ann', 'You (you)']);
    const annsTile = tiles(el).find((t) => labelOf(t) === 'Ann')!;
    expect(annsTile.hasAttribute('speaking')).to.be.true;
    expect(
      annsTile.shadowRoot!.querySelector('[part="speaking-indicator"]')!.getAttribute('aria-label'),
    ).to.equal('Speaking');
    expect(getComputedStyle(annsTile).outlineWidth, 'a ring, not colour alone').to.equal('4px');
    await expect(el).to.be.accessible();
    call.setSpeaking([]);
    await waitUntil(() => speaking().length === 0, 'quiet again');
  });

  it('re-renders only the tile of the one who changed: a microphone, speaking', async () => {
    const people = ['you', 'ann', 'bob', 'cy', 'dee', 'eve'].map((id, i) =>
      fakeParticipant({ id, name: id, joinedAt: i, microphone: true }),
    );
    const room = joined(people);
    const call = createFakeCall();
    const { el } = await grid(room, call);
    const settled = async () => {
      await el.updateComplete;
      await Promise.all(tilesInDom(el).map((tile) => tile.updateComplete));
    };
    await settled();
    type Updated = { updated: (this: unknown, changed: unknown) => void };
    const prototype = MeetParticipantTile.prototype as unknown as Updated;
    const original = prototype.updated;
    const updated: string[] = [];
    prototype.updated = function (this: unknown, changed) {
      updated.push((this as MeetParticipantTile).participant!.id);
      original.call(this, changed);
    };
    const after = async (change: () => void) => {
      updated.length = 0;
      change();
      await settled();
      return [...updated].sort();
    };
    try {
      // As the room client applies a delta: everyone else stays the same object.
      const muteCy = () =>
        room.setState(
          applyServerMessage(room.state, {
            type: 'participant-updated',
            id: 'cy',
            changes: { microphone: false },
          }),
        );
      expect(await after(muteCy)).to.deep.equal(['cy']);
      expect(await after(() => call.setSpeaking(['bob']))).to.deep.equal(['bob']);
      expect(await after(() => call.setSpeaking(['bob', 'eve']))).to.deep.equal(['eve']);
      expect(await after(() => call.setSpeaking([]))).to.deep.equal(['bob', 'eve']);
      // Every participant a new object (a client that rebuilt the room): every tile, as counted.
      const renewAll = () => room.setState({ participants: room.state.participants.map((p) => ({ ...p })) });
      expect(await after(renewAll)).to.deep.equal(people.map((p) => p.id).sort());
    } finally {
      prototype.updated = original;
    }
  });

  it("gives each camera tile its participant's connection quality, never a screen share", async () => {
    const call = createFakeCall();
    const { el } = await grid(joined([ann, bob, you]), call);
    await call.setScreenShare(true);
    await waitUntil(() => tiles(el).length === 4, 'your screen too');
    const qualities = () =>
      Object.fromEntries(
        tiles(el).map((t): [string, string | null] => [labelOf(t) ?? '', t.getAttribute('quality')]),
      );
    expect(Object.values(qualities()), 'nothing measured yet').to.deep.equal([null, null, null, null]);
    call.setQuality(
      new Map([
        ['ann', 'poor'],
        ['bob', 'good'],
        ['you', 'fair'],
      ]),
    );
    await waitUntil(() => qualities().Ann === 'poor', "Ann's tile turns poor");
    expect(qualities()).to.deep.equal({
      Ann: 'poor',
      Bob: 'good',
      'You (you)': 'fair',
      "You's screen (you)": null,
    });
    const annsTile = tiles(el).find((t) => labelOf(t) === 'Ann')!;
    expect(
      annsTile.shadowRoot!.querySelector('[part="quality-indicator"]')!.getAttribute('aria-label'),
    ).to.equal('Poor connection');
    await expect(el).to.be.accessible();
    call.setQuality(new Map([['ann', 'good']]));
    await waitUntil(() => qualities().Ann === 'good', 'Ann recovers');
    expect(qualities().Bob, 'no longer measured').to.equal(null);
  });

  it('shows as many as it may, the rest behind "+N", and receives the video of the shown ones only', async () => {
    const [cy, dee] = [
      fakeParticipant({ id: 'cy', name: 'Cy', joinedAt: 21 }),
      fakeParticipant({ id: 'dee', name: 'Dee', joinedAt: 22 }),
    ];
    const call = createFakeCall();
    const { el } = await contextFixture<MeetParticipantGrid>(
      html`<meet-participant-grid max-tiles="3" style="height: 100%"></meet-participant-grid>`,
      { room: joined([ann, bob, cy, dee, you]), call },
      'width: 800px; height: 450px',
    );
    const onStage = () => tilesInDom(el).filter((t) => !t.hidden);
    await waitUntil(() => onStage().length === 2, 'two tiles and "+N"');
    expect(onStage().map(labelOf)).to.deep.equal(['You (you)', 'Ann']);
    const more = el.shadowRoot!.querySelector<HTMLButtonElement>('[part="more"]')!;
    expect(more.textContent.trim()).to.equal('+3');
    expect(more.getAttribute('aria-label')).to.equal('3 more people: show everyone');
    expect(more.parentElement!.getAttribute('aria-posinset')).to.equal('3');
    // Off stage they are still there, hidden, playing their sound.
    expect(
      tilesInDom(el)
        .filter((t) => t.hidden)
        .map(labelOf),
    ).to.have.members(['Bob', 'Cy', 'Dee']);
    expect(
      tilesInDom(el)
        .find((t) => labelOf(t) === 'Dee')!
        .shadowRoot!.querySelector('audio'),
    ).to.not.be.null;
    expect([...call.videoShown.at(-1)!.keys()]).to.deep.equal(['ann camera']);
    await expect(el).to.be.accessible();

    const shown = oneEvent(el, 'meet-show-participants');
    more.click();
    expect((await shown).detail.participants.map((p: Participant) => p.name)).to.deep.equal([
      'Bob',
      'Cy',
      'Dee',
    ]);

    // Dee speaks: she comes on stage in the place of whoever spoke least lately.
    call.setSpeaking(['dee']);
    await waitUntil(() => onStage().some((t) => labelOf(t) === 'Dee'), 'Dee on stage');
    expect(onStage().map(labelOf)).to.deep.equal(['You (you)', 'Dee']);
    expect([...call.videoShown.at(-1)!.keys()]).to.deep.equal(['dee camera']);
  });

  it('pins a tile for this viewer: large, first, with its video; unpins', async () => {
    const call = createFakeCall();
    const { el } = await grid(joined([ann, bob, you]), call);
    const pinOf = (label: string) =>
      tiles(el)
        .find((t) => labelOf(t) === label)!
        .querySelector<HTMLButtonElement>('[part="pin"]')!;
    expect(pinOf('Bob').getAttribute('aria-label')).to.equal('Pin Bob');
    expect(pinOf('Bob').getAttribute('aria-pressed')).to.equal('false');
    pinOf('Bob').click();
    await waitUntil(() => labels(el)[0] === 'Bob', 'Bob first');
    const bobs = tiles(el)[0]!;
    expect(bobs.pinned).to.be.true;
    expect(pinOf('Bob').getAttribute('aria-pressed')).to.equal('true');
    await waitUntil(() => size(bobs).width > size(tiles(el)[1]!).width * 2, 'Bob large');
    // The meeting hears how large each video is shown, for the simulcast layer it receives.
    const asked = call.videoShown.at(-1);
    expect(asked).to.be.instanceOf(Map);
    const widths = asked as ReadonlyMap<string, { width: number }>;
    expect(widths.get('bob camera')!.width).to.equal(Math.round(size(bobs).width));
    expect(widths.get('bob camera')!.width).to.be.greaterThan(widths.get('ann camera')!.width * 2);
    await expect(el).to.be.accessible();
    pinOf('Bob').click();
    await waitUntil(() => labels(el)[0] === 'You (you)', 'unpinned');
    expect(bobs.pinned).to.be.false;
  });

  it("plays everyone's sound on the speaker chosen in the device picker", async () => {
    const call = createFakeCall();
    call.setRemote(new Map([['ann', { stream: await fakeDeviceStream(), screen: null }]]));
    const devices = createDevices();
    const wrapper = await fixture<HTMLDivElement>(html`<div style="width: 800px; height: 450px"></div>`);
    provideContexts(wrapper, { room: joined([ann, you]), call });
    new ContextProvider(wrapper, { context: devicesContext, initialValue: devices });
    render(html`<meet-participant-grid style="height: 100%"></meet-participant-grid>`, wrapper);
    const el = wrapper.firstElementChild as MeetParticipantGrid;
    await waitUntil(() => tiles(el).length === 2, 'two tiles');
    const speakers = (await navigator.mediaDevices.enumerateDevices()).filter(
      (d) => d.kind === 'audiooutput' && d.deviceId !== 'default',
    );
    expect(speakers, "Chromium's fake speakers").to.not.be.empty;
    const speaker = speakers[0]!.deviceId;
    try {
      devices.select('audiooutput', speaker);
      const anns = tiles(el)[1]!;
      const sound = anns.shadowRoot!.querySelector('audio') as HTMLAudioElement & { sinkId: string };
      await waitUntil(() => sound.sinkId === speaker, "Ann's sound goes to the chosen speaker");
      expect(anns.getAttribute('sink-id')).to.equal(speaker);
      expect(tiles(el)[0]!.shadowRoot!.querySelector('audio'), 'your own sound never plays').to.equal(null);
    } finally {
      devices.close();
    }
  });

  it('follows remote media as it arrives', async () => {
    const call = createFakeCall();
    const { el } = await grid(joined([ann, you]), call);
    const media: RemoteMedia = { stream: await fakeDeviceStream(), screen: null };
    call.setRemote(new Map([['ann', media]]));
    await waitUntil(() => tiles(el)[1]!.stream === media.stream);
  });
});
