import { expect, waitUntil } from '@open-wc/testing';
import type { Observable } from 'rxjs';
import {
  FakeMediaDevices,
  FakePermissions,
  FakeStorage,
  fakeDevice,
  rejectWith,
} from '../test-support/fake-media-devices.js';
import { createDevices, DeviceError, deviceStorageKey, type Devices } from './devices.js';

/** Everything an observable emits, until `stop()`. */
function record<T>(source: Observable<T>) {
  const values: T[] = [];
  let completed = false;
  const subscription = source.subscribe({
    next: (value) => values.push(value),
    complete: () => (completed = true),
  });
  return {
    values,
    get last() {
      return values.at(-1);
    },
    get completed() {
      return completed;
    },
    stop: () => subscription.unsubscribe(),
  };
}

const ids = (devices: MediaDeviceInfo[] | undefined) => devices?.map((d) => d.deviceId);

function setup({
  devices = [
    fakeDevice('videoinput', 'cam-1', 'Front camera'),
    fakeDevice('audioinput', 'mic-1', 'Headset'),
    fakeDevice('audiooutput', 'out-1', 'Speakers'),
  ],
  stored = {},
  permissions = new FakePermissions({ camera: 'prompt', microphone: 'granted' }),
}: {
  devices?: MediaDeviceInfo[];
  stored?: Record<string, string>;
  permissions?: FakePermissions;
} = {}) {
  const media = new FakeMediaDevices(devices);
  const storage = new FakeStorage(stored);
  const created = createDevices({ mediaDevices: media.asMediaDevices(), storage, permissions });
  return { media, storage, permissions, devices: created };
}

let opened: Devices[] = [];
const track = <T extends { devices: Devices }>(context: T) => {
  opened.push(context.devices);
  return context;
};
afterEach(() => {
  for (const devices of opened) devices.close();
  opened = [];
});

describe('createDevices', () => {
  it('lists devices by kind, leaving out the default aliases', async () => {
    const { devices } = track(
      setup({
        devices: [
          fakeDevice('audioinput', 'default', 'Default - Headset'),
          fakeDevice('audioinput', 'mic-1', 'Headset'),
          fakeDevice('audioinput', 'communications', 'Communications - Headset'),
          fakeDevice('videoinput', 'cam-1', 'Front camera'),
          fakeDevice('audiooutput', 'out-1', 'Speakers'),
        ],
      }),
    );
    const lists = record(devices.devices$);
    await waitUntil(() => lists.last);
    expect(ids(lists.last!.audioinput)).to.deep.equal(['mic-1']);
    expect(ids(lists.last!.videoinput)).to.deep.equal(['cam-1']);
    expect(ids(lists.last!.audiooutput)).to.deep.equal(['out-1']);
    lists.stop();
  });

  it('follows hot-plugging and stops listening when nobody subscribes', async () => {
    const { media, devices } = track(setup());
    const first = record(devices.devices$);
    const second = record(devices.devices$);
    await waitUntil(() => first.last && second.last);
    expect(media.listeners).to.equal(1);

    media.plug(fakeDevice('videoinput', 'cam-2', 'USB camera'));
    await waitUntil(() => first.last?.videoinput.length === 2);
    expect(ids(first.last!.videoinput)).to.deep.equal(['cam-1', 'cam-2']);
    expect(ids(second.last!.videoinput)).to.deep.equal(['cam-1', 'cam-2']);

    media.unplug('cam-1');
    await waitUntil(() => first.last?.videoinput.length === 1);
    expect(ids(first.last!.videoinput)).to.deep.equal(['cam-2']);

    first.stop();
    expect(media.listeners).to.equal(1);
    second.stop();
    expect(media.listeners).to.equal(0);
  });

  it('starts from the remembered choice and asks getUserMedia for it first', async () => {
    const { media, devices } = track(
      setup({
        devices: [
          fakeDevice('videoinput', 'cam-1'),
          fakeDevice('videoinput', 'cam-2'),
          fakeDevice('audioinput', 'mic-1'),
        ],
        stored: { [deviceStorageKey('videoinput')]: 'cam-2' },
      }),
    );
    const camera = record(devices.selected$('videoinput'));
    const microphone = record(devices.selected$('audioinput'));
    await waitUntil(() => camera.values.length && microphone.values.length);
    expect(camera.last).to.equal('cam-2');
    expect(microphone.last).to.equal(null);

    expect(devices.constraints('videoinput')).to.deep.equal({
      deviceId: { ideal: 'cam-2' },
      width: { ideal: 640 },
      height: { ideal: 480 },
      frameRate: { ideal: 30 },
    });
    expect(devices.constraints('audioinput')).to.deep.equal({
      echoCancellation: true,
      noiseSuppression: true,
      autoGainControl: true,
    });

    const stream = await devices.getStream({ audio: true, video: true });
    stream.getTracks().forEach((t) => t.stop());
    expect(media.requests).to.deep.equal([
      { audio: devices.constraints('audioinput'), video: devices.constraints('videoinput') },
    ]);
    camera.stop();
    microphone.stop();
  });

  it('remembers a choice, and the default as none', async () => {
    const { storage, devices } = track(setup());
    const microphone = record(devices.selected$('audioinput'));
    await waitUntil(() => microphone.values.length);
    expect(microphone.last).to.equal(null);

    devices.select('audioinput', 'mic-1');
    expect(microphone.last).to.equal('mic-1');
    expect(storage.items.get('meet-device-audioinput')).to.equal('mic-1');
    expect(devices.constraints('audioinput').deviceId).to.deep.equal({ ideal: 'mic-1' });

    devices.select('audioinput', null);
    expect(microphone.last).to.equal(null);
    expect(storage.items.get('meet-device-audioinput')).to.equal('');
    expect(devices.constraints('audioinput').deviceId).to.equal(undefined);

    devices.select('audiooutput', 'out-1');
    expect(storage.items.get('meet-device-audiooutput')).to.equal('out-1');
    microphone.stop();
  });

  it('falls back to the default while the chosen device is unplugged, and returns to it', async () => {
    const { media, devices } = track(setup());
    devices.select('videoinput', 'cam-1');
    const camera = record(devices.selected$('videoinput'));
    await waitUntil(() => camera.last === 'cam-1');

    media.unplug('cam-1');
    await waitUntil(() => camera.last === null, 'falls back to the default');
    // Still the preference: getUserMedia tries it first if it is back by then.
    expect(devices.constraints('videoinput').deviceId).to.deep.equal({ ideal: 'cam-1' });

    media.plug(fakeDevice('videoinput', 'cam-1', 'Front camera'));
    await waitUntil(() => camera.last === 'cam-1', 'back to the chosen camera');
    expect(camera.values).to.deep.equal(['cam-1', null, 'cam-1']);
    camera.stop();
  });

  it('works when storage is blocked', async () => {
    const media = new FakeMediaDevices([fakeDevice('videoinput', 'cam-1')]);
    const devices = createDevices({
      mediaDevices: media.asMediaDevices(),
      storage: new FakeStorage({}, true),
      permissions: null,
    });
    opened.push(devices);
    const camera = record(devices.selected$('videoinput'));
    await waitUntil(() => camera.values.length);
    expect(camera.last).to.equal(null);
    devices.select('videoinput', 'cam-1');
    expect(camera.last).to.equal('cam-1');
    camera.stop();
  });

  const failures: [string, DeviceError['code'], string][] = [
    ['NotAllowedError', 'permission-denied', 'site settings'],
    ['SecurityError', 'permission-denied', 'allow="camera; microphone"'],
    ['NotFoundError', 'device-not-found', 'Connect'],
    ['OverconstrainedError', 'device-not-found', 'Connect'],
    ['NotReadableError', 'device-in-use', 'another app'],
    ['AbortError', 'device-in-use', 'another app'],
    ['TypeError', 'media-unavailable', 'Reload'],
  ];
  for (const [name, code, advice] of failures) {
    it(`turns ${name} into ${code} with what to do`, async () => {
      const { media, devices } = track(setup());
      media.answer = rejectWith(name);
      const error = await devices.getStream({ audio: false, video: true }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(DeviceError);
      const { code: actual, message, kind } = error as DeviceError;
      expect(actual).to.equal(code);
      expect(kind).to.equal('camera');
      expect(message).to.contain(advice);
      expect(message.toLowerCase()).to.contain('camera');
    });
  }

  it('names both devices when both were asked for', async () => {
    const { media, devices } = track(setup());
    media.answer = rejectWith('NotAllowedError');
    const error = (await devices
      .getStream({ audio: true, video: true })
      .catch((e: unknown) => e)) as DeviceError;
    expect(error.kind).to.equal(undefined);
    expect(error.message).to.equal(
      'Camera and microphone access is blocked. Allow it in the site settings (the icon left of the address bar) and try again.',
    );
  });

  it('reports media-unavailable without mediaDevices (insecure page)', async () => {
    const devices = createDevices({ mediaDevices: null, storage: null, permissions: null });
    opened.push(devices);
    const error = (await devices
      .getStream({ audio: true, video: false })
      .catch((e: unknown) => e)) as DeviceError;
    expect(error.code).to.equal('media-unavailable');
    expect(error.message).to.contain('https');
    const lists = record(devices.devices$);
    expect(lists.last).to.deep.equal({ audioinput: [], videoinput: [], audiooutput: [] });
  });

  it('follows permission changes, and says unknown where the browser cannot tell', async () => {
    const { permissions, devices } = track(setup());
    const camera = record(devices.permission$('camera'));
    await waitUntil(() => camera.values.length);
    expect(camera.last).to.equal('prompt');
    permissions.change('camera', 'granted');
    permissions.change('camera', 'denied');
    expect(camera.values).to.deep.equal(['prompt', 'granted', 'denied']);
    camera.stop();

    const microphone = record(devices.permission$('microphone'));
    await waitUntil(() => microphone.values.length);
    expect(microphone.last).to.equal('granted');
    microphone.stop();

    const unknownName = track(setup({ permissions: new FakePermissions({}) }));
    const unsupported = record(unknownName.devices.permission$('camera'));
    await waitUntil(() => unsupported.values.length);
    expect(unsupported.last).to.equal('unknown');
    unsupported.stop();

    const none = createDevices({ mediaDevices: null, permissions: null, storage: null });
    opened.push(none);
    expect(record(none.permission$('microphone')).last).to.equal('unknown');
  });

  it('completes everything on close and lets go of the device list', async () => {
    const { media, devices } = track(setup());
    const lists = record(devices.devices$);
    const camera = record(devices.selected$('videoinput'));
    const permission = record(devices.permission$('camera'));
    await waitUntil(() => lists.values.length && camera.values.length && permission.values.length);
    devices.close();
    expect(lists.completed && camera.completed && permission.completed).to.be.true;
    expect(media.listeners).to.equal(0);
  });

  it('knows that Chromium can choose the speaker', () => {
    const { devices } = track(setup());
    expect(devices.supportsSpeakerSelection).to.be.true;
  });

  it("opens Chromium's fake camera and microphone as live tracks", async () => {
    const devices = createDevices({ storage: null });
    opened.push(devices);
    const stream = await devices.getStream({ audio: true, video: true });
    try {
      expect(stream.getAudioTracks()).to.have.length(1);
      expect(stream.getVideoTracks()).to.have.length(1);
      expect(stream.getTracks().every((t) => t.readyState === 'live')).to.be.true;
      const lists = record(devices.devices$);
      await waitUntil(() => lists.last?.videoinput.some((d) => d.label));
      expect(lists.last!.videoinput.map((d) => d.label)).to.include('fake_device_0');
      lists.stop();
    } finally {
      stream.getTracks().forEach((t) => t.stop());
    }
  });
});
