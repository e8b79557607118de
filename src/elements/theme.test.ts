import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { emulateMedia } from '@web/test-runner-commands';
import { defineElement } from '../define.js';
import { freshRoom, localWorkers } from '../test-support/local-workers.js';
import { MeetControls } from './meet-controls/meet-controls.js';
import { MeetDevicePicker } from './meet-device-picker/meet-device-picker.js';
import { MeetParticipantTile } from './meet-participant-tile/meet-participant-tile.js';
import { MeetRoom } from './meet-room/meet-room.js';
import type { Theme } from './theme-context.js';

// The room registers everything it renders.
defineElement('meet-room', MeetRoom);

type Rgba = [number, number, number, number];

/** A computed colour: `rgb()`/`rgba()` (0–255) or `color(srgb …)` (0–1, what `color-mix` gives). */
function parseColor(value: string): Rgba {
  const srgb = /^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.e-]+))?\)$/.exec(value);
  if (srgb) {
    const [r, g, b] = [srgb[1], srgb[2], srgb[3]].map((c) => Number(c) * 255);
    return [r!, g!, b!, Number(srgb[4] ?? 1)];
  }
  const rgb = /^rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)$/.exec(value);
  if (!rgb) throw new Error(`unexpected colour ${value}`);
  return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3]), Number(rgb[4] ?? 1)];
}

/** The parent in the rendered (flat) tree: through slots and out of shadow roots. */
function flatParent(element: Element): Element | null {
  if (element.assignedSlot) return element.assignedSlot;
  if (element.parentElement) return element.parentElement;
  const root = element.getRootNode();
  return root instanceof ShadowRoot ? root.host : null;
}

/** The colour behind `element`: its background and its ancestors', blended, over a white page. */
function backgroundBehind(element: Element): Rgba {
  const layers: Rgba[] = [];
  for (let at: Element | null = element; at; at = flatParent(at)) {
    const layer = parseColor(getComputedStyle(at).backgroundColor);
    if (layer[3] > 0) layers.push(layer);
    if (layer[3] === 1) break;
  }
  return layers.reduceRight<Rgba>(
    (below, [r, g, b, a]) => [
      r * a + below[0] * (1 - a),
      g * a + below[1] * (1 - a),
      b * a + below[2] * (1 - a),
      1,
    ],
    [255, 255, 255, 1],
  );
}

/** WCAG 2 contrast ratio of two opaque colours. */
function contrast(one: Rgba, other: Rgba): number {
  const luminance = ([r, g, b]: Rgba) => {
    const [lr, lg, lb] = [r, g, b].map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * lr! + 0.7152 * lg! + 0.0722 * lb!;
  };
  const [light, dark] = [luminance(one), luminance(other)].sort((a, b) => b - a);
  return (light! + 0.05) / (dark! + 0.05);
}

/** Text as its reader sees it: its colour against what is behind it, and the scheme it is in. */
function looksOf(text: Element) {
  const style = getComputedStyle(text);
  return {
    contrast: Math.round(contrast(parseColor(style.color), backgroundBehind(text)) * 100) / 100,
    scheme: style.colorScheme,
  };
}

const inside = (host: Element, selector: string) => [...host.shadowRoot!.querySelectorAll(selector)];
const button = (room: MeetRoom, name: string) =>
  inside(room, 'button').find((b) => b.textContent?.trim() === name) as HTMLButtonElement | undefined;

/** Every text a user reads in the picker, the controls and the tiles of `elements`. */
function textsIn(elements: Element[]): Element[] {
  return elements.flatMap((element) => {
    if (element instanceof MeetDevicePicker) return inside(element, '[part="field"] > span');
    if (element instanceof MeetControls) return inside(element, 'button');
    if (element instanceof MeetParticipantTile) return inside(element, '[part="name"]');
    return [];
  });
}

/** Checks each text reads well (≥ 4.5:1, WCAG AA), and in `theme`'s colour scheme. */
function expectReadableIn(theme: Theme, texts: Element[]) {
  expect(texts, 'texts to check').to.have.length.greaterThan(2);
  const looks = texts.map((text) => ({
    text: `${(text.getRootNode() as ShadowRoot).host.localName}: ${text.textContent?.trim()}`,
    ...looksOf(text),
  }));
  expect(looks.filter((text) => text.contrast < 4.5)).to.deep.equal([]);
  expect(looks.filter((text) => text.scheme !== theme)).to.deep.equal([]);
}

async function openRoom(theme: Theme, content = html``) {
  const { open } = await localWorkers();
  const room = await fixture<MeetRoom>(
    html`<meet-room room=${freshRoom('theme')} server=${open} name="Tess" theme=${theme}
      >${content}</meet-room
    >`,
  );
  await waitUntil(() => button(room, 'Join') && !button(room, 'Join')!.disabled, 'lobby ready', {
    timeout: 5_000,
  });
  // The meeting's elements arrive a moment after the lobby (lazy dependencies of <meet-room>).
  await Promise.all(Object.keys(MeetRoom.lazyDependencies).map((tag) => customElements.whenDefined(tag)));
  return room;
}

async function join(room: MeetRoom) {
  const joined = oneEvent(room, 'meet-joined');
  room.join();
  await joined;
  await room.updateComplete;
}

/** The page prefers the other scheme, so only the theme attribute can make it right. */
const otherScheme = (theme: Theme) => emulateMedia({ colorScheme: theme === 'dark' ? 'light' : 'dark' });

afterEach(() => emulateMedia({ colorScheme: 'light' }));

describe('theme', () => {
  for (const theme of ['dark', 'light'] as const) {
    it(`reaches everything <meet-room theme="${theme}"> renders`, async () => {
      await otherScheme(theme);
      const room = await openRoom(theme);
      button(room, 'Devices')!.click();
      await waitUntil(() => inside(room, 'meet-device-picker').length === 1, 'the device picker');
      const lobby = inside(room, 'meet-device-picker, meet-participant-tile');
      await Promise.all(lobby.map((element) => (element as MeetDevicePicker).updateComplete));
      expectReadableIn(theme, textsIn(lobby));

      await join(room);
      const grid = inside(room, 'meet-participant-grid')[0]!;
      await waitUntil(() => inside(grid, 'meet-participant-tile').length === 1, 'your tile');
      const meeting = [...inside(room, 'meet-controls'), ...inside(grid, 'meet-participant-tile')];
      await Promise.all(meeting.map((element) => (element as MeetControls).updateComplete));
      expectReadableIn(theme, textsIn(meeting));
    });

    it(`reaches what a page slots into <meet-room theme="${theme}">, and follows it when it changes`, async () => {
      await otherScheme(theme);
      const room = await openRoom(
        theme,
        html`<div class="layout">
          <meet-device-picker no-preview></meet-device-picker>
          <meet-participant-grid style="height: 240px"></meet-participant-grid>
          <meet-controls></meet-controls>
        </div>`,
      );
      await join(room);
      const grid = room.querySelector('meet-participant-grid')!;
      await waitUntil(() => inside(grid, 'meet-participant-tile').length === 1, 'your tile');
      const slotted = [
        room.querySelector('meet-device-picker')!,
        room.querySelector('meet-controls')!,
        ...inside(grid, 'meet-participant-tile'),
      ];
      await Promise.all(slotted.map((element) => (element as MeetControls).updateComplete));
      expectReadableIn(theme, textsIn(slotted));

      const other = theme === 'dark' ? 'light' : 'dark';
      room.theme = other;
      await room.updateComplete;
      await Promise.all(slotted.map((element) => (element as MeetControls).updateComplete));
      expectReadableIn(other, textsIn(slotted));
    });
  }

  it("lets an element's own theme attribute win inside <meet-room>", async () => {
    const room = await openRoom(
      'dark',
      html`<meet-controls theme="light"></meet-controls
        ><meet-participant-grid theme="light" style="height: 240px"></meet-participant-grid>`,
    );
    await join(room);
    const grid = room.querySelector('meet-participant-grid')!;
    await waitUntil(() => inside(grid, 'meet-participant-tile').length === 1, 'your tile');
    const own = [room.querySelector('meet-controls')!, ...inside(grid, 'meet-participant-tile')];
    await Promise.all(own.map((element) => (element as MeetControls).updateComplete));
    expectReadableIn('light', textsIn(own));
  });

  it('makes an element on its own follow its theme attribute, else the page', async () => {
    const wrapper = await fixture<HTMLDivElement>(
      html`<div>
        <meet-controls></meet-controls>
        <meet-controls theme="light"></meet-controls>
        <meet-controls theme="dark"></meet-controls>
      </div>`,
    );
    const [plain, light, dark] = [...wrapper.querySelectorAll('meet-controls')];
    await Promise.all([plain, light, dark].map((element) => element!.updateComplete));
    const scheme = (element: Element) => looksOf(inside(element, 'button')[0]!).scheme;
    expect([plain, light, dark].map((element) => scheme(element!))).to.deep.equal(['light', 'light', 'dark']);
    await emulateMedia({ colorScheme: 'dark' });
    expect([plain, light, dark].map((element) => scheme(element!))).to.deep.equal(['dark', 'light', 'dark']);
    await expect(plain).to.be.accessible();
  });

  it('shows the theme in effect as a custom state for page styles', async () => {
    const room = await openRoom('dark', html`<meet-controls></meet-controls>`);
    const controls = room.querySelector('meet-controls')!;
    await controls.updateComplete;
    expect(controls.matches(':state(dark)')).to.be.true;
    expect(controls.hasAttribute('theme'), 'its own attribute stays unset').to.be.false;
    room.removeAttribute('theme');
    await room.updateComplete;
    await controls.updateComplete;
    expect(controls.matches(':state(dark), :state(light)'), 'the page decides').to.be.false;
  });
});
