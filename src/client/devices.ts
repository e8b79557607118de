/**
 * Cameras, microphones and speakers as observables: the lists (following
 * plugging and unplugging), the chosen device per kind (remembered, tried
 * first, and back when plugged in again) and the permission state; plus
 * opening a stream with typed errors that say what to do. Free of Lit, so
 * the room, the call client and the device picker share one instance.
 */
import {
  BehaviorSubject,
  catchError,
  combineLatest,
  defer,
  distinctUntilChanged,
  from,
  fromEvent,
  map,
  merge,
  type Observable,
  of,
  shareReplay,
  startWith,
  Subject,
  switchMap,
  takeUntil,
} from 'rxjs';
import type { CallError, CallErrorCode } from './call-types.js';

export type DeviceKind = 'audioinput' | 'videoinput' | 'audiooutput';
/** The kinds `getUserMedia` opens. */
export type InputKind = Exclude<DeviceKind, 'audiooutput'>;
export type DeviceLists = Record<DeviceKind, MediaDeviceInfo[]>;
export type DevicePermission = 'granted' | 'denied' | 'prompt' | 'unknown';

export const DEVICE_KINDS: readonly DeviceKind[] = ['videoinput', 'audioinput', 'audiooutput'];

/** Where the chosen device of each kind is remembered. */
export const deviceStorageKey = (kind: DeviceKind) => `meet-device-${kind}`;

export interface DevicesOptions {
  /** Defaults to `navigator.mediaDevices` (absent on insecure pages); `null` for none. */
  mediaDevices?: MediaDevices | null;
  /** Where choices are remembered; defaults to `localStorage`, `null` to not remember. */
  storage?: Pick<Storage, 'getItem' | 'setItem'> | null;
  /** Defaults to `navigator.permissions`; `null` makes every permission `unknown`. */
  permissions?: Pick<Permissions, 'query'> | null;
}

export type DeviceErrorCode = Extract<
  CallErrorCode,
  'permission-denied' | 'device-not-found' | 'device-in-use' | 'media-unavailable'
>;

/** Opening a camera or microphone failed; `message` says what to do about it. */
export class DeviceError extends Error implements CallError {
  override readonly name = 'DeviceError';
  constructor(
    readonly code: DeviceErrorCode,
    message: string,
    /** Which device, when only one was asked for. */
    readonly kind?: 'camera' | 'microphone',
  ) {
    super(message);
  }
}

const emptyLists = (): DeviceLists => ({ audioinput: [], videoinput: [], audiooutput: [] });

export function createDevices(options: DevicesOptions = {}) {
  const mediaDevices =
    options.mediaDevices === undefined ? globalThis.navigator?.mediaDevices : options.mediaDevices;
  const storage = options.storage === undefined ? defaultStorage() : options.storage;
  const permissions =
    options.permissions === undefined ? globalThis.navigator?.permissions : options.permissions;

  const closed = new Subject<void>();
  /** Enumerate again without a `devicechange`: labels appear once a device was opened. */
  const refresh = new Subject<void>();
  const preferences = Object.fromEntries(
    DEVICE_KINDS.map((kind) => [kind, new BehaviorSubject<string | null>(remembered(kind))]),
  ) as Record<DeviceKind, BehaviorSubject<string | null>>;

  function remembered(kind: DeviceKind): string | null {
    try {
      return storage?.getItem(deviceStorageKey(kind)) || null;
    } catch {
      return null;
    }
  }

  async function enumerate(devices: MediaDevices): Promise<DeviceLists> {
    const lists = emptyLists();
    for (const device of await devices.enumerateDevices()) {
      // Chrome's `default` and `communications` entries repeat a real device: null stands for the default.
      if (device.deviceId === 'default' || device.deviceId === 'communications') continue;
      lists[device.kind].push(device);
    }
    return lists;
  }

  const devices$: Observable<DeviceLists> = (
    mediaDevices
      ? merge(fromEvent(mediaDevices, 'devicechange'), refresh).pipe(
          startWith(undefined),
          switchMap(() => from(enumerate(mediaDevices)).pipe(catchError(() => of(emptyLists())))),
        )
      : of(emptyLists())
  ).pipe(takeUntil(closed), shareReplay({ bufferSize: 1, refCount: true }));

  const selectedByKind = Object.fromEntries(
    DEVICE_KINDS.map((kind) => [
      kind,
      combineLatest([preferences[kind], devices$]).pipe(
        // An unplugged device falls back to the default; the preference stays for when it returns.
        map(([id, lists]) => (id && lists[kind].some((d) => d.deviceId === id) ? id : null)),
        distinctUntilChanged(),
        takeUntil(closed),
        shareReplay({ bufferSize: 1, refCount: true }),
      ),
    ]),
  ) as Record<DeviceKind, Observable<string | null>>;

  const permissionByName = Object.fromEntries(
    (['camera', 'microphone'] as const).map((name) => [
      name,
      defer(() => {
        if (!permissions) return of<DevicePermission>('unknown');
        return from(permissions.query({ name })).pipe(
          switchMap((status) =>
            fromEvent(status, 'change').pipe(
              startWith(undefined),
              map(() => status.state as DevicePermission),
            ),
          ),
          // Firefox and older Safari do not know these names.
          catchError(() => of<DevicePermission>('unknown')),
        );
      }).pipe(distinctUntilChanged(), takeUntil(closed), shareReplay({ bufferSize: 1, refCount: true })),
    ]),
  ) as Record<'camera' | 'microphone', Observable<DevicePermission>>;

  function constraints(kind: InputKind): MediaTrackConstraints {
    const id = preferences[kind].value;
    // `ideal`, not `exact`: an unplugged choice falls back to another device instead of failing.
    const device: MediaTrackConstraints = id ? { deviceId: { ideal: id } } : {};
    return kind === 'videoinput'
      ? { ...device, width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } }
      : { ...device, echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  }

  async function getStream({ audio, video }: { audio: boolean; video: boolean }): Promise<MediaStream> {
    const kind = audio && video ? undefined : video ? 'camera' : 'microphone';
    if (!mediaDevices) throw deviceError(undefined, kind);
    try {
      const stream = await mediaDevices.getUserMedia({
        audio: audio && constraints('audioinput'),
        video: video && constraints('videoinput'),
      });
      refresh.next();
      return stream;
    } catch (error) {
      throw deviceError((error as Partial<Error> | null)?.name ?? 'Error', kind);
    }
  }

  return {
    /** Every camera, microphone and speaker; follows plugging and unplugging. */
    devices$,
    /** The chosen device of a kind, or null for the default (also while the chosen one is unplugged). */
    selected$: (kind: DeviceKind): Observable<string | null> => selectedByKind[kind],
    /** Chooses a device (null: the default) and remembers it. */
    select(kind: DeviceKind, deviceId: string | null): void {
      preferences[kind].next(deviceId);
      try {
        storage?.setItem(deviceStorageKey(kind), deviceId ?? '');
      } catch {
        // Not remembered (storage blocked or full); the choice still holds for this visit.
      }
    },
    /** Whether the page may use the camera or microphone; `unknown` where the browser cannot tell. */
    permission$: (name: 'camera' | 'microphone'): Observable<DevicePermission> => permissionByName[name],
    /** What `getUserMedia` should ask for: the chosen device first, and sensible quality. */
    constraints,
    /** Opens the chosen microphone and/or camera. Rejects with a `DeviceError`. */
    getStream,
    /** Whether audio can be sent to a chosen speaker (`setSinkId`). */
    supportsSpeakerSelection:
      typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype,
    /** Stops following devices and permissions; every observable completes. */
    close(): void {
      closed.next();
      closed.complete();
      refresh.complete();
      for (const preference of Object.values(preferences)) preference.complete();
    },
  };
}

export type Devices = ReturnType<typeof createDevices>;

function defaultStorage(): Pick<Storage, 'getItem' | 'setItem'> | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // Blocked: third-party iframe, privacy mode.
  }
}

/**
 * A `getUserMedia` failure (by its `DOMException` name; undefined when there
 * is no `mediaDevices` at all) in words a visitor can act on.
 */
function deviceError(name: string | undefined, kind?: 'camera' | 'microphone'): DeviceError {
  const what = kind ?? 'camera and microphone';
  const What = what[0]!.toUpperCase() + what.slice(1);
  switch (name) {
    case 'NotAllowedError':
      return new DeviceError(
        'permission-denied',
        `${What} access is blocked. Allow it in the site settings (the icon left of the address bar) and try again.`,
        kind,
      );
    case 'SecurityError':
      return new DeviceError(
        'permission-denied',
        `This page may not use the ${what}. If it is embedded in another site, that site must allow it (allow="camera; microphone" on its iframe).`,
        kind,
      );
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new DeviceError(
        'device-not-found',
        `No ${what} found. Connect ${kind ? 'one' : 'them'}, check that ${kind ? 'it is' : 'they are'} switched on, and try again.`,
        kind,
      );
    case 'NotReadableError':
    case 'AbortError':
      return new DeviceError(
        'device-in-use',
        `The ${what} could not be started: another app or tab may be using it. Close it there and try again.`,
        kind,
      );
    case undefined:
      return new DeviceError(
        'media-unavailable',
        `This browser cannot use the ${what} here. Open the page over https in an up-to-date browser.`,
        kind,
      );
    default:
      return new DeviceError(
        'media-unavailable',
        `The ${what} could not be started. Reload the page and try again.`,
        kind,
      );
  }
}
