import { ContextProvider } from '@lit/context';
import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { selectOption } from '@web/test-runner-commands';
import { render } from 'lit';
import { createDevices, DEVICE_KINDS, deviceStorageKey, type Devices } from '../../client/devices.js';
import { defineElement } from '../../define.js';
import type { MeetEvent } from '../../events/meet-events.js';
import { documentedTokens } from '../../styles/tokens.js';
import { devicesContext } from '../devices-context.js';
import {
  FakeMediaDevices,
  FakeStorage,
  fakeDevice,
  rejectWith,
} from '../../test-support/fake-media-devices.js';
import type { MeetDeviceChangeEvent } from '../../events/meet-events.js';
import { MeetDevicePicker } from './meet-device-picker.js';

defineElement('meet-device-picker', MeetDevicePicker);

const shadow = (el: MeetDevicePicker) => el.shadowRoot!;
const select = (el: MeetDevicePicker, kind: string) =>
  shadow(el).querySelector<HTMLSelectElement>(`select[name="${kind}"]`)!;
const options = (el: MeetDevicePicker, kind: string) =>
  [...select(el, kind).options].map((o) => o.textContent.trim());
const preview = (el: MeetDevicePicker) => shadow(el).querySelector<HTMLVideoElement>('[part="preview"]');
const level = (el: MeetDevicePicker) => shadow(el).querySelector<HTMLMeterElement>('[part="level"]')!;
const alert = (el: MeetDevicePicker) => shadow(el).querySelector<HTMLElement>('[part="error"]')!;

/** A picker alone on the page: it makes its own device manager. */
async function alone(template = html`<meet-device-picker></meet-device-picker>`) {
  const el = await fixture<MeetDevicePicker>(template);
  await waitUntil(() => options(el, 'videoinput').includes('fake_device_0'), 'fake devices listed', {
    timeout: 5_000,
  });
  return el;
}

/** A picker inside a wrapper that provides `devices`, as `<meet-room>` does. */
async function provided(
  devices: Devices | undefined,
  template = html`<meet-device-picker></meet-device-picker>`,
) {
  const wrapper = await fixture<HTMLDivElement>(html`<div></div>`);
  const provider = new ContextProvider(wrapper, { context: devicesContext, initialValue: devices });
  const errors: MeetEvent<'meet-error'>[] = [];
  wrapper.addEventListener('meet-error', (event) => errors.push(event));
  render(template, wrapper);
  const el = wrapper.firstElementChild as MeetDevicePicker;
  await el.updateComplete;
  return { el, wrapper, provider, errors };
}

function fakeDevices(media: FakeMediaDevices, storage = new FakeStorage()): Devices {
  const devices = createDevices({ mediaDevices: media.asMediaDevices(), storage, permissions: null });
  made.push(devices);
  return devices;
}

let made: Devices[] = [];
afterEach(() => {
  for (const kind of DEVICE_KINDS) localStorage.removeItem(deviceStorageKey(kind));
  for (const devices of made) devices.close();
  made = [];
});

describe('<meet-device-picker>', () => {
  it("is accessible and lists Chromium's fake devices, Default first", async () => {
    const el = await alone();
    await expect(el).to.be.accessible();
    expect(options(el, 'videoinput')[0]).to.equal('Default');
    expect(options(el, 'audioinput')).to.include.members(['Default', 'Fake Audio Input 1']);
    expect(options(el, 'audiooutput')[0]).to.equal('Default');
    const labels = [...shadow(el).querySelectorAll('[part="field"]')].map(
      (f) => f.querySelector('span')!.textContent,
    );
    expect(labels).to.deep.equal(['Camera', 'Microphone', 'Speaker']);
  });

  it('plays a mirrored camera preview', async () => {
    const el = await alone();
    const video = preview(el)!;
    await waitUntil(() => video.readyState >= 2, 'preview playing', { timeout: 5_000 });
    expect(video.muted).to.be.true;
    expect(getComputedStyle(video).transform).to.equal('matrix(-1, 0, 0, 1, 0, 0)');

    // The level meter re-renders many times a second; the preview must not restart loading.
    let restarts = 0;
    video.addEventListener('emptied', () => restarts++);
    const seen = new Set<number>();
    await waitUntil(() => seen.add(level(el).value).size >= 5, 'the meter moved', { timeout: 5_000 });
    expect(restarts).to.equal(0);
    expect(video.readyState).to.be.at.least(2);
  });

  it("moves the level meter with the fake microphone's beep", async () => {
    const el = await alone();
    await waitUntil(() => level(el).value > 0, 'the meter moved', { timeout: 5_000 });
    expect(level(el).getAttribute('aria-label')).to.equal('Microphone level');
  });

  it('fires meet-device-change for a choice of the user and remembers it', async () => {
    const el = await alone();
    const microphone = select(el, 'audioinput');
    const choice = [...microphone.options].find((o) => o.textContent.includes('Fake Audio Input 2'))!;
    const changed = oneEvent(el, 'meet-device-change');
    await selectOption({ selector: 'meet-device-picker select[name="audioinput"]', value: choice.value });
    const { detail, bubbles, composed } = (await changed) as MeetDeviceChangeEvent;
    expect(detail).to.deep.equal({ kind: 'audioinput', deviceId: choice.value });
    expect(bubbles && composed).to.be.true;
    expect(localStorage.getItem('meet-device-audioinput')).to.equal(choice.value);
    expect(microphone.value).to.equal(choice.value);
    await waitUntil(() => level(el).value > 0, 'measuring the new microphone', { timeout: 5_000 });

    const again = await alone();
    expect(select(again, 'audioinput').value).to.equal(choice.value);
  });

  it('uses the provided device manager and shows choices made in code without an event', async () => {
    const media = new FakeMediaDevices([
      fakeDevice('videoinput', 'cam-1', 'Desk camera'),
      fakeDevice('videoinput', 'cam-2', 'Document camera'),
      fakeDevice('audioinput', 'mic-1', 'Headset'),
    ]);
    const devices = fakeDevices(media);
    const { el } = await provided(devices);
    await waitUntil(() => options(el, 'videoinput').length === 3, 'provided devices listed');
    expect(options(el, 'videoinput')).to.deep.equal(['Default', 'Desk camera', 'Document camera']);
    expect(options(el, 'audioinput')).to.deep.equal(['Default', 'Headset']);
    await waitUntil(() => (preview(el)?.readyState ?? 0) >= 2, 'preview playing', { timeout: 5_000 });

    let events = 0;
    el.addEventListener('meet-device-change', () => events++);
    const opened = media.requests.length;
    devices.select('videoinput', 'cam-2');
    await waitUntil(() => select(el, 'videoinput').value === 'cam-2', 'shows the new choice');
    await waitUntil(() => media.requests.length > opened, 'opens the chosen camera');
    expect(media.requests.at(-1)).to.deep.include({ audio: false });
    expect((media.requests.at(-1)!.video as MediaTrackConstraints).deviceId).to.deep.equal({
      ideal: 'cam-2',
    });
    expect(events).to.equal(0);
  });

  it('switches from its own device manager to one provided later', async () => {
    const { el, provider } = await provided(undefined);
    await waitUntil(() => options(el, 'videoinput').includes('fake_device_0'), 'its own devices listed', {
      timeout: 5_000,
    });
    const media = new FakeMediaDevices([fakeDevice('videoinput', 'cam-1', 'Desk camera')]);
    provider.setValue(fakeDevices(media));
    await waitUntil(() => options(el, 'videoinput').includes('Desk camera'), 'the provided devices listed');
    expect(options(el, 'videoinput')).to.deep.equal(['Default', 'Desk camera']);
  });

  it('names unlabelled devices, shows what to do when access is blocked, and fires meet-error', async () => {
    const media = new FakeMediaDevices([
      fakeDevice('videoinput', 'cam-1'),
      fakeDevice('videoinput', 'cam-2'),
      fakeDevice('audioinput', 'mic-1'),
    ]);
    media.answer = rejectWith('NotAllowedError');
    const { el, errors } = await provided(fakeDevices(media));
    await waitUntil(() => !alert(el).hidden, 'the alert shows');
    await expect(el).to.be.accessible();
    expect(alert(el).getAttribute('role')).to.equal('alert');
    expect(alert(el).textContent).to.contain('Camera and microphone access is blocked');
    expect(alert(el).textContent).to.contain('site settings');
    expect(options(el, 'videoinput')).to.deep.equal(['Default', 'Camera 1', 'Camera 2']);
    expect(options(el, 'audioinput')).to.deep.equal(['Default', 'Microphone 1']);
    expect(errors.map((e) => e.detail)).to.deep.equal([
      {
        code: 'permission-denied',
        message:
          'Camera and microphone access is blocked. Allow it in the site settings (the icon left of the address bar) and try again.',
        fatal: false,
      },
    ]);
    expect(errors[0]!.bubbles && errors[0]!.composed).to.be.true;
  });

  it('keeps the microphone working when there is no camera', async () => {
    const media = new FakeMediaDevices([fakeDevice('audioinput', 'mic-1', 'Headset')]);
    const real = media.answer;
    media.answer = (constraints) =>
      constraints.video ? Promise.reject(new DOMException('none', 'NotFoundError')) : real(constraints);
    const { el, errors } = await provided(fakeDevices(media));
    await waitUntil(() => !alert(el).hidden, 'the alert shows');
    expect(alert(el).textContent.trim()).to.equal(
      'No camera found. Connect one, check that it is switched on, and try again.',
    );
    expect(errors.map((e) => e.detail.code)).to.deep.equal(['device-not-found']);
    await waitUntil(() => level(el).value > 0, 'the meter moved', { timeout: 5_000 });
  });

  it('adds a device plugged in while it is open', async () => {
    const media = new FakeMediaDevices([fakeDevice('videoinput', 'cam-1', 'Desk camera')]);
    const { el } = await provided(fakeDevices(media));
    await waitUntil(() => options(el, 'videoinput').length === 2, 'listed');
    media.plug(fakeDevice('videoinput', 'cam-2', 'USB camera'));
    await waitUntil(() => options(el, 'videoinput').includes('USB camera'), 'the new camera is listed');
    media.unplug('cam-1');
    await waitUntil(() => !options(el, 'videoinput').includes('Desk camera'), 'the old one is gone');
  });

  it('leaves the camera closed with no-preview', async () => {
    const media = new FakeMediaDevices([fakeDevice('audioinput', 'mic-1', 'Headset')]);
    const { el } = await provided(
      fakeDevices(media),
      html`<meet-device-picker no-preview></meet-device-picker>`,
    );
    await waitUntil(() => level(el).value > 0, 'the meter moved', { timeout: 5_000 });
    expect(preview(el)).to.equal(null);
    expect(media.requests, 'the microphone was opened').to.not.be.empty;
    expect(
      media.requests.filter((r) => r.video !== false),
      'the camera was not',
    ).to.deep.equal([]);

    el.noPreview = false;
    await waitUntil(() => (preview(el)?.readyState ?? 0) >= 2, 'preview playing', { timeout: 5_000 });
  });

  it('stops the camera and microphone when it leaves the page', async () => {
    const el = await alone();
    await waitUntil(() => (preview(el)!.srcObject as MediaStream | null)?.getVideoTracks().length);
    await waitUntil(() => level(el).value > 0, 'the meter moved', { timeout: 5_000 });
    const tracks = (preview(el)!.srcObject as MediaStream).getTracks();
    el.remove();
    expect(tracks.map((t) => t.readyState)).to.deep.equal(['ended']);
    await el.updateComplete;
    expect(level(el).value).to.equal(0);
  });

  it('uses only documented --meet-* tokens', () => {
    const styles = (MeetDevicePicker.styles as { cssText: string }[]).map((s) => s.cssText).join('\n');
    const used = new Set(styles.match(/--meet-[a-z0-9-]+/g));
    expect([...used].filter((token) => !(token in documentedTokens))).to.deep.equal([]);
  });
});
