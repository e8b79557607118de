import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { defineElement } from '../../define.js';
import type { Participant } from '../../protocol/index.js';
import { documentedTokens } from '../../styles/tokens.js';
import {
  fakeDeviceStream,
  fakeParticipant,
  fakeScreenStream,
  stopFakeMedia,
  stopFakeTrack,
} from '../../test-support/fake-call.js';
import { MeetParticipantTile } from './meet-participant-tile.js';
import { animationFrames, FIRST_FRAME, recordTileFrames, shownBy } from './tile-frames.test-support.js';

defineElement('meet-participant-tile', MeetParticipantTile);

const part = (el: MeetParticipantTile, name: string) =>
  el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);
const video = (el: MeetParticipantTile) => part(el, 'video') as HTMLVideoElement;
const audio = (el: MeetParticipantTile) => part(el, 'audio') as HTMLAudioElement | null;
const group = (el: MeetParticipantTile) => el.shadowRoot!.querySelector('[role="group"]')!;
const playing = (v: HTMLVideoElement) =>
  waitUntil(() => v.readyState >= 2 && !v.paused, 'video plays', FIRST_FRAME);
const showsVideo = (el: MeetParticipantTile) =>
  waitUntil(() => shownBy(el) === 'video', 'the video shows', FIRST_FRAME);
const tracksOf = (source: MediaProvider | null) => (source as MediaStream | null)?.getTracks() ?? [];

const ada = fakeParticipant({ id: 'ada', name: 'Ada', microphone: true, camera: true, joinedAt: 1 });

async function tile(
  participant: Participant,
  stream: MediaStream | null,
  { local = false, screenShare = false } = {},
): Promise<MeetParticipantTile> {
  return fixture<MeetParticipantTile>(html`
    <meet-participant-tile
      style="width: 320px; height: 180px"
      .participant=${participant}
      .stream=${stream}
      ?local=${local}
      ?screen-share=${screenShare}
    ></meet-participant-tile>
  `);
}

afterEach(stopFakeMedia);

describe('<meet-participant-tile>', () => {
  it("shows the AI agent's state and what it says, and plays its voice", async () => {
    const agent = fakeParticipant({
      id: 'ai',
      name: 'AI',
      role: 'agent',
      microphone: true,
      aiState: 'speaking',
    });
    const el = await tile(agent, await fakeDeviceStream());
    expect(el.getAttribute('ai-state')).to.equal('speaking');
    expect(part(el, 'ai-state')!.textContent).to.equal('Speaking');
    expect(part(el, 'ai-caption'), 'nothing said yet').to.be.null;
    expect(part(el, 'avatar')!.querySelector('svg'), 'its own avatar, not an initial').to.not.be.null;
    expect(audio(el), 'its voice has an audio element').to.not.be.null;
    el.caption = 'Hello, everyone.';
    await el.updateComplete;
    expect(part(el, 'ai-caption')!.textContent).to.equal('Hello, everyone.');
    await expect(el).to.be.accessible();
    el.participant = { ...agent, aiState: 'thinking' };
    await el.updateComplete;
    expect(part(el, 'ai-state')!.textContent).to.equal('Thinking…');
    el.participant = ada;
    await el.updateComplete;
    expect(el.hasAttribute('ai-state'), 'a person has no AI state').to.be.false;
    expect(part(el, 'ai-caption')).to.be.null;
  });

  it('is accessible and named after the participant', async () => {
    const el = await tile(
      { ...ada, microphone: false, role: 'host', handRaised: true },
      await fakeDeviceStream(),
    );
    await expect(el).to.be.accessible();
    expect(group(el).getAttribute('aria-label')).to.equal('Ada');
    expect(part(el, 'name')!.textContent).to.equal('Ada');
    expect(part(el, 'muted-indicator')!.getAttribute('aria-label')).to.equal('Microphone off');
    expect(part(el, 'hand')!.getAttribute('aria-label')).to.equal('Hand raised');
    expect(part(el, 'host-badge')!.textContent).to.equal('Host');
    expect(part(el, 'muted-indicator')!.querySelector('svg rect')).to.be.instanceOf(SVGRectElement);
  });

  it('reflects microphone, camera, hand and role as the participant changes', async () => {
    const el = await tile(ada, await fakeDeviceStream());
    await showsVideo(el);
    for (const attribute of ['muted', 'camera-off', 'hand-raised', 'host'])
      expect(el.hasAttribute(attribute), attribute).to.be.false;
    expect(part(el, 'muted-indicator')).to.equal(null);
    expect(part(el, 'hand')).to.equal(null);
    expect(part(el, 'host-badge')).to.equal(null);

    el.participant = { ...ada, microphone: false, camera: false, handRaised: true, role: 'host' };
    await el.updateComplete;
    for (const attribute of ['muted', 'camera-off', 'hand-raised', 'host'])
      expect(el.hasAttribute(attribute), attribute).to.be.true;
    expect(part(el, 'muted-indicator')).to.not.equal(null);
    expect(part(el, 'hand')).to.not.equal(null);
    expect(part(el, 'host-badge')).to.not.equal(null);
    await expect(el).to.be.accessible();
  });

  it('shows the initial instead of the video while the camera is off', async () => {
    const el = await tile({ ...ada, name: 'grace', camera: false }, await fakeDeviceStream());
    expect(el.hasAttribute('camera-off')).to.be.true;
    expect(part(el, 'avatar')!.textContent).to.equal('G');
    expect(part(el, 'avatar')!.getAttribute('aria-hidden')).to.equal('true');
    expect(shownBy(el)).to.equal('avatar');
    expect(video(el).srcObject, 'a camera turned off is let go of').to.equal(null);

    el.participant = { ...ada, name: '👩‍💻 Lin', camera: false };
    await el.updateComplete;
    expect(part(el, 'avatar')!.textContent).to.equal('👩‍💻');
  });

  describe('with a picture', () => {
    /** A picture that loads: a small square, made here so the test needs no image server. */
    let picture: string;
    before(() => {
      const svg =
        '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="teal"/></svg>';
      picture = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
    });
    after(() => URL.revokeObjectURL(picture));
    /** The dev server answers 404: the image fails to load. */
    const broken = () => `${location.origin}/no-such-picture-${Math.random()}.png`;
    const img = (el: MeetParticipantTile) => part(el, 'picture') as HTMLImageElement | null;
    const shows = (element: Element | null) => !!element?.checkVisibility({ opacityProperty: true });
    /** Resolves once `image` has loaded or failed, whichever it does. */
    const settled = async (image: HTMLImageElement) => {
      if (!image.complete) await Promise.race([oneEvent(image, 'load'), oneEvent(image, 'error')]);
    };

    it('shows it instead of the initial while the camera is off', async () => {
      const el = await tile({ ...ada, camera: false, picture }, await fakeDeviceStream());
      const image = img(el)!;
      await settled(image);
      expect(image.naturalWidth, 'the picture loaded').to.be.greaterThan(0);
      expect(shows(image)).to.be.true;
      expect(image.getAttribute('alt'), 'the name is written beside it').to.equal('');
      expect(image.getAttribute('referrerpolicy')).to.equal('no-referrer');
      expect(image.getAttribute('loading')).to.equal('lazy');
      // It covers the initial exactly.
      expect(image.getBoundingClientRect().toJSON()).to.deep.equal(
        part(el, 'avatar')!.getBoundingClientRect().toJSON(),
      );
      expect(shownBy(el)).to.equal('avatar');
      await expect(el).to.be.accessible();
    });

    it('shows the initial when the picture fails to load, and a new picture when it changes', async () => {
      const el = await tile({ ...ada, name: 'grace', camera: false, picture: broken() }, null);
      const failed = img(el)!;
      if (!failed.hidden) await oneEvent(failed, 'error');
      expect(shows(failed), 'the broken picture is hidden').to.be.false;
      expect(shows(part(el, 'avatar'))).to.be.true;
      expect(part(el, 'avatar')!.textContent).to.equal('G');
      await expect(el).to.be.accessible();

      el.participant = { ...ada, name: 'grace', camera: false, picture };
      await el.updateComplete;
      const image = img(el)!;
      await settled(image);
      expect(shows(image), 'the new picture shows').to.be.true;
      expect(image.naturalWidth).to.be.greaterThan(0);
    });

    it('gives way to the video while the camera is on', async () => {
      const el = await tile({ ...ada, picture }, await fakeDeviceStream());
      await showsVideo(el);
      expect(img(el)).to.be.null;
    });
  });

  it('plays the camera video, muted, and the sound separately', async () => {
    const stream = await fakeDeviceStream();
    const el = await tile(ada, stream);
    await showsVideo(el);
    expect(el.hasAttribute('camera-off')).to.be.false;
    expect(part(el, 'avatar')).to.equal(null);
    expect(tracksOf(video(el).srcObject)).to.deep.equal(stream.getVideoTracks());
    expect(video(el).muted).to.be.true;
    await playing(video(el));
    expect(getComputedStyle(video(el)).objectFit).to.equal('cover');
    expect(getComputedStyle(video(el)).transform).to.equal('none');

    const sound = audio(el)!.srcObject as MediaStream;
    expect(sound.getTracks()).to.deep.equal(stream.getAudioTracks());
    el.participant = { ...ada, handRaised: true };
    await el.updateComplete;
    expect(audio(el)!.srcObject, 'same tracks keep the same stream').to.equal(sound);
  });

  it('follows tracks that arrive, leave and end', async () => {
    const [camera] = (await fakeDeviceStream({ audio: false })).getVideoTracks();
    const [microphone] = (await fakeDeviceStream({ video: false })).getAudioTracks();
    const stream = new MediaStream([camera!]);
    const el = await tile(ada, stream);
    expect(audio(el)!.srcObject).to.equal(null);

    // A browser fires these for remote tracks; scripts adding tracks do not.
    stream.addTrack(microphone!);
    stream.dispatchEvent(new MediaStreamTrackEvent('addtrack', { track: microphone! }));
    await waitUntil(() => (audio(el)!.srcObject as MediaStream | null)?.getTracks()[0] === microphone);

    stopFakeTrack(camera!);
    camera!.dispatchEvent(new Event('ended'));
    await waitUntil(() => el.hasAttribute('camera-off'), 'ended video shows the avatar');
    expect(part(el, 'avatar')!.textContent).to.equal('A');

    stream.removeTrack(microphone!);
    stream.dispatchEvent(new MediaStreamTrackEvent('removetrack', { track: microphone! }));
    await waitUntil(() => audio(el)!.srcObject === null, 'removed audio stops playing');
  });

  it('stops listening to a stream it no longer shows', async () => {
    const first = await fakeDeviceStream({ audio: false });
    const el = await tile(ada, first);
    const second = await fakeDeviceStream({ audio: false });
    el.stream = second;
    await el.updateComplete;
    const end = (stream: MediaStream) => stream.getVideoTracks()[0]!.dispatchEvent(new Event('ended'));

    end(first);
    expect(el.isUpdatePending, 'the old stream is ignored').to.be.false;
    end(second);
    expect(el.isUpdatePending, 'the new stream is followed').to.be.true;
    await el.updateComplete;
    el.remove();
    end(second);
    expect(el.isUpdatePending, 'nothing is followed once removed').to.be.false;
  });

  it('shows the initial until the camera has a frame, never a blank tile', async () => {
    const el = await tile({ ...ada, camera: false }, null);
    const frames = recordTileFrames(() => [el]);
    el.participant = ada;
    el.stream = await fakeDeviceStream();
    await showsVideo(el);
    expect(frames.stop().get('Ada')).to.deep.equal(['avatar', 'video']);
  });

  it('shows the initial again when the camera is turned off, and back on', async () => {
    const el = await tile(ada, await fakeDeviceStream());
    await showsVideo(el);
    const frames = recordTileFrames(() => [el]);
    el.participant = { ...ada, camera: false };
    await waitUntil(() => shownBy(el) === 'avatar', 'the initial shows');
    await animationFrames(1);
    el.participant = ada;
    await showsVideo(el);
    expect(frames.stop().get('Ada')).to.deep.equal(['video', 'avatar', 'video']);
  });

  it('shows the initial or a frame, never a blank tile, when the video track is replaced (a rejoin)', async () => {
    const el = await tile(ada, await fakeDeviceStream());
    await showsVideo(el);
    const frames = recordTileFrames(() => [el]);
    const rejoined = await fakeDeviceStream();
    el.stream = rejoined;
    await waitUntil(() => tracksOf(video(el).srcObject)[0] === rejoined.getVideoTracks()[0], 'the new track');
    await showsVideo(el);
    // The initial shows only if a paint comes before the new track's first frame.
    expect(frames.stop().get('Ada')!.join(' → ')).to.match(/^video( → avatar → video)?$/);
  });

  it('keeps playing through changes that leave its video and sound as they are', async () => {
    const stream = await fakeDeviceStream();
    const el = await tile(ada, stream);
    await showsVideo(el);
    const restarts: string[] = [];
    for (const media of [video(el), audio(el)!])
      media.addEventListener('emptied', () => restarts.push(media.localName));
    const frames = recordTileFrames(() => [el]);

    el.participant = { ...ada, handRaised: true };
    await el.updateComplete;
    el.participant = { ...ada, handRaised: true, microphone: false, role: 'host' };
    await el.updateComplete;
    // The call gives a new stream of the same tracks when something else changes (the screen share starts).
    el.stream = new MediaStream(stream.getTracks());
    await el.updateComplete;
    el.sinkId = 'default';
    await el.updateComplete;
    await animationFrames(3);

    expect(restarts).to.deep.equal([]);
    expect(frames.stop().get('Ada')).to.deep.equal(['video']);
  });

  it('plays the sound on the chosen speaker', async () => {
    const el = await tile(ada, await fakeDeviceStream());
    const speakers = (await navigator.mediaDevices.enumerateDevices()).filter(
      (d) => d.kind === 'audiooutput',
    );
    const speaker = speakers.find((d) => d.deviceId !== 'default') ?? speakers[0]!;
    el.sinkId = speaker.deviceId;
    const sound = audio(el) as HTMLAudioElement & { sinkId: string };
    await waitUntil(() => sound.sinkId === speaker.deviceId, 'sound goes to the chosen speaker');
    expect(el.getAttribute('sink-id')).to.equal(null);
  });

  it('mirrors your own camera and never plays your sound', async () => {
    const el = await tile(ada, await fakeDeviceStream(), { local: true });
    expect(audio(el)).to.equal(null);
    expect(group(el).getAttribute('aria-label')).to.equal('Ada (you)');
    expect(part(el, 'name')!.textContent).to.equal('Ada (you)');
    expect(getComputedStyle(video(el)).transform).to.equal('matrix(-1, 0, 0, 1, 0, 0)');
    await playing(video(el));
    await expect(el).to.be.accessible();
  });

  it('shows a screen share whole, unmirrored and without sound', async () => {
    const screen = fakeScreenStream();
    const el = await tile({ ...ada, camera: false, microphone: false }, screen, {
      screenShare: true,
      local: true,
    });
    expect(group(el).getAttribute('aria-label')).to.equal("Ada's screen (you)");
    for (const attribute of ['muted', 'camera-off', 'hand-raised'])
      expect(el.hasAttribute(attribute), attribute).to.be.false;
    expect(audio(el)).to.equal(null);
    expect(tracksOf(video(el).srcObject)).to.deep.equal(screen.getVideoTracks());
    const style = getComputedStyle(video(el));
    expect(style.objectFit).to.equal('contain');
    expect(style.transform).to.equal('none');
    await playing(video(el));
    await expect(el).to.be.accessible();
  });

  for (const theme of ['light', 'dark'] as const)
    it(`shows how well their connection is, not by colour alone, accessible in ${theme}`, async () => {
      const el = await tile(ada, await fakeDeviceStream());
      el.setAttribute('theme', theme);
      await el.updateComplete;
      expect(getComputedStyle(el).colorScheme).to.equal(theme);
      const indicator = () => part(el, 'quality-indicator');
      const bars = () => indicator()!.querySelectorAll('rect.on').length;
      expect(el.hasAttribute('quality'), 'nothing measured yet').to.be.false;
      expect(indicator()).to.equal(null);

      el.quality = 'good';
      await el.updateComplete;
      expect(el.getAttribute('quality')).to.equal('good');
      expect(indicator(), 'good shows nothing').to.equal(null);

      const seen: [string | null, number, boolean][] = [];
      for (const quality of ['fair', 'poor', 'lost'] as const) {
        el.quality = quality;
        await el.updateComplete;
        expect(el.getAttribute('quality')).to.equal(quality);
        seen.push([indicator()!.getAttribute('aria-label'), bars(), !!indicator()!.querySelector('path')]);
        await expect(el).to.be.accessible();
      }
      // The words and the shape say it: fewer bars for worse, crossed out when lost.
      expect(seen).to.deep.equal([
        ['Fair connection', 2, false],
        ['Poor connection', 1, false],
        ['Connection lost', 0, true],
      ]);
      expect(indicator()!.getAttribute('role')).to.equal('img');
      // Poor and lost also turn it the danger colour; fair stays in the text colour.
      const colour = () => getComputedStyle(indicator()!).color;
      const lostColour = colour();
      el.quality = 'fair';
      await el.updateComplete;
      expect(colour()).to.not.equal(lostColour);

      el.quality = undefined;
      await el.updateComplete;
      expect(el.hasAttribute('quality')).to.be.false;
      expect(indicator()).to.equal(null);
    });

  it('has rounded corners from --meet-tile-radius, then --meet-radius', async () => {
    const el = await tile(ada, null);
    expect(getComputedStyle(el).borderTopLeftRadius).to.equal('12px');
    el.style.setProperty('--meet-radius', '4px');
    expect(getComputedStyle(el).borderTopLeftRadius).to.equal('4px');
    el.style.setProperty('--meet-tile-radius', '0px');
    expect(getComputedStyle(el).borderTopLeftRadius).to.equal('0px');
  });

  it('uses only documented --meet-* tokens', () => {
    // Component tokens waiting for their line in documentedTokens.
    const styles = (MeetParticipantTile.styles as { cssText: string }[]).map((s) => s.cssText).join('\n');
    const used = new Set(styles.match(/--meet-[a-z0-9-]+/g));
    expect([...used].filter((token) => !(token in documentedTokens))).to.deep.equal([]);
  });
});
