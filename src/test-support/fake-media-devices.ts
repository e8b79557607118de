/**
 * Stand-ins for `navigator.mediaDevices`, `navigator.permissions` and
 * storage, for device tests: a device list the test plugs and unplugs, and
 * `getUserMedia` answered by the test (by default from Chromium's fake
 * devices, so streams are real).
 */

/** A `MediaDeviceInfo` as `enumerateDevices` gives it. */
export function fakeDevice(kind: MediaDeviceKind, deviceId: string, label = ''): MediaDeviceInfo {
  const info = { kind, deviceId, label, groupId: `group-${deviceId}` };
  return { ...info, toJSON: () => info };
}

export class FakeMediaDevices extends EventTarget {
  devices: MediaDeviceInfo[];
  /** Every `getUserMedia` request, in order. */
  readonly requests: MediaStreamConstraints[] = [];
  /** How `getUserMedia` answers; replace it to fail. */
  answer: (constraints: MediaStreamConstraints) => Promise<MediaStream> = (constraints) =>
    navigator.mediaDevices.getUserMedia(constraints);
  #listeners = 0;

  constructor(devices: MediaDeviceInfo[] = []) {
    super();
    this.devices = devices;
  }

  /** How many `devicechange` listeners are attached. */
  get listeners(): number {
    return this.#listeners;
  }

  enumerateDevices(): Promise<MediaDeviceInfo[]> {
    return Promise.resolve([...this.devices]);
  }

  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream> {
    this.requests.push(constraints);
    return this.answer(constraints);
  }

  /** Plugs a device in, as the browser reports it. */
  plug(device: MediaDeviceInfo): void {
    this.devices = [...this.devices, device];
    this.dispatchEvent(new Event('devicechange'));
  }

  unplug(deviceId: string): void {
    this.devices = this.devices.filter((d) => d.deviceId !== deviceId);
    this.dispatchEvent(new Event('devicechange'));
  }

  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    if (args[0] === 'devicechange') this.#listeners++;
    super.addEventListener(...args);
  }

  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    if (args[0] === 'devicechange') this.#listeners--;
    super.removeEventListener(...args);
  }

  /** Typed as the real thing, for `createDevices({ mediaDevices })`. */
  asMediaDevices(): MediaDevices {
    return this as unknown as MediaDevices;
  }
}

/** `getUserMedia` failing as browsers do, with a `DOMException` of this name. */
export const rejectWith = (name: string) => () => Promise.reject(new DOMException('fake failure', name));

class FakePermissionStatus extends EventTarget {
  constructor(public state: PermissionState) {
    super();
  }
}

export class FakePermissions {
  readonly #statuses = new Map<string, FakePermissionStatus>();

  constructor(states: Partial<Record<'camera' | 'microphone', PermissionState>> = {}) {
    for (const [name, state] of Object.entries(states))
      this.#statuses.set(name, new FakePermissionStatus(state));
  }

  query({ name }: PermissionDescriptor): Promise<PermissionStatus> {
    const status = this.#statuses.get(name);
    return status
      ? Promise.resolve(status as unknown as PermissionStatus)
      : Promise.reject(new TypeError(`'${name}' is not a valid permission name`));
  }

  /** The user changed the permission in the site settings. */
  change(name: 'camera' | 'microphone', state: PermissionState): void {
    const status = this.#statuses.get(name)!;
    status.state = state;
    status.dispatchEvent(new Event('change'));
  }
}

/** Storage in a Map; `blocked` makes every call throw, as in some third-party iframes. */
export class FakeStorage {
  readonly items = new Map<string, string>();
  constructor(
    items: Record<string, string> = {},
    readonly blocked = false,
  ) {
    for (const [key, value] of Object.entries(items)) this.items.set(key, value);
  }

  getItem(key: string): string | null {
    if (this.blocked) throw new DOMException('blocked', 'SecurityError');
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    if (this.blocked) throw new DOMException('blocked', 'SecurityError');
    this.items.set(key, value);
  }
}
