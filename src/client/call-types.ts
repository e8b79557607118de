import type { Observable } from 'rxjs';

/** The media a participant can send. */
export type MediaKind = 'microphone' | 'camera' | 'screen';

/** What this participant sends, for the self preview and the controls. */
export interface LocalMedia {
  microphone: boolean;
  camera: boolean;
  screen: boolean;
  /** The microphone and camera tracks (only those that are on); null while both are off. */
  cameraStream: MediaStream | null;
  /** The screen being shared; null while not sharing. */
  screenStream: MediaStream | null;
}

/** What arrives from one other participant. */
export interface RemoteMedia {
  /** Their microphone and camera tracks, as they arrive. */
  stream: MediaStream;
  /** Their screen share; null while they are not sharing. */
  screen: MediaStream | null;
}

export type CallErrorCode =
  | 'permission-denied'
  | 'device-not-found'
  | 'device-in-use'
  | 'screen-share-failed'
  | 'media-unavailable'
  | 'connection-failed';

/** A device or media problem the user should see, with what to do about it. */
export interface CallError {
  code: CallErrorCode;
  message: string;
  /** Which medium it concerns, when it concerns one. */
  kind?: MediaKind;
}

/**
 * The media side of a meeting: what this participant sends and what arrives
 * from the others. Room state (names, roles, hands) stays in the room client.
 */
export interface CallClient {
  readonly local$: Observable<LocalMedia>;
  /** Media of other participants, by participant id. */
  readonly remote$: Observable<ReadonlyMap<string, RemoteMedia>>;
  readonly errors$: Observable<CallError>;
  /** False where the browser cannot share a screen (most phones). */
  readonly screenShareSupported: boolean;
  setMicrophone(on: boolean): Promise<void>;
  setCamera(on: boolean): Promise<void>;
  setScreenShare(on: boolean): Promise<void>;
}
