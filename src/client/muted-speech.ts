/**
 * "You are muted": whether this visitor talks while their microphone is off
 * in the meeting, for a hint that tells them how to unmute.
 *
 * Muting stops the microphone track the call sends (`call-client.ts`), so
 * hearing a muted visitor needs a microphone of its own. It is opened only
 * where a visitor would expect it, as Google Meet and Zoom do: in the
 * meeting, muted after the microphone was on in this meeting (they were
 * talking and muted, or a host muted them), and only while the browser
 * already grants the microphone, so no prompt ever appears for it. Someone
 * who joined muted and never turned the microphone on is never listened to.
 * The browser shows its recording indicator meanwhile. What it hears stays in
 * this page: a WebAudio analyser reads the level, the track never reaches
 * the call, and nothing is sent.
 *
 * Talking is judged as for everyone else (`speaking.ts`): on at the first
 * loud sample, off after a second of quiet.
 */
import { combineLatest, distinctUntilChanged, map, Observable, of, switchMap, type Subscription } from 'rxjs';
import type { DevicePermission } from './devices.js';
import { meterStream, type LevelMeter } from './media/level-meter.js';
import { speakingFrom, type SpeakingOptions } from './speaking.js';

export interface MutedListening {
  /** In the meeting (joined or reconnecting). */
  inMeeting: boolean;
  /** The microphone is on (sending). */
  microphone: boolean;
  /** It was on at some point since this visitor entered the meeting. */
  usedInMeeting: boolean;
  /** The browser's microphone permission. */
  permission: DevicePermission;
}

/** Pure: whether to listen to the muted microphone now. */
export const listensWhileMuted = ({
  inMeeting,
  microphone,
  usedInMeeting,
  permission,
}: MutedListening): boolean => inMeeting && !microphone && usedInMeeting && permission === 'granted';

export interface MutedSpeechSources {
  inMeeting$: Observable<boolean>;
  microphone$: Observable<boolean>;
  /**
   * The microphone was on since this visitor entered the meeting; followed
   * by the meeting from the start, as this may be subscribed to later.
   */
  usedInMeeting$: Observable<boolean>;
  permission$: Observable<DevicePermission>;
  /** The chosen microphone: a new choice is listened to instead. */
  device$: Observable<string | null>;
  /** Opens the chosen microphone (`devices.getStream({ audio: true, video: false })`). */
  open: () => Promise<MediaStream>;
  /** Makes the level meter; tests may stand in. */
  meter?: (stream: MediaStream) => LevelMeter | null;
  speaking?: SpeakingOptions & { intervalMs?: number };
}

/** True while the visitor talks with the microphone off (see above); false whenever it is not listened to. */
export function mutedSpeech(sources: MutedSpeechSources): Observable<boolean> {
  const { inMeeting$, microphone$, usedInMeeting$, permission$, device$ } = sources;
  return combineLatest([inMeeting$, microphone$, usedInMeeting$, permission$, device$]).pipe(
    map(([inMeeting, microphone, usedInMeeting, permission, device]) =>
      listensWhileMuted({ inMeeting, microphone, usedInMeeting, permission }) ? (device ?? 'default') : null,
    ),
    distinctUntilChanged(),
    switchMap((device) => (device === null ? of(false) : talkingInto(sources))),
    distinctUntilChanged(),
  );
}

/**
 * Opens the microphone while subscribed and tells whether someone talks
 * into it; closes it on unsubscribe. A microphone that cannot be opened (in
 * use, unplugged) is taken as silent: the hint is a courtesy, not an error.
 */
function talkingInto({
  open,
  meter = meterStream,
  speaking,
}: Pick<MutedSpeechSources, 'open' | 'meter' | 'speaking'>): Observable<boolean> {
  return new Observable<boolean>((subscriber) => {
    let done = false;
    let listening: LevelMeter | null = null;
    let sampling: Subscription | undefined;
    subscriber.next(false);
    open().then(
      (stream) => {
        if (!done) listening = meter(stream);
        if (!listening) {
          for (const track of stream.getTracks()) track.stop();
          return;
        }
        const level = listening;
        sampling = speakingFrom(() => Promise.resolve(new Map([[YOU, level.level()]])), speaking)
          .pipe(map((ids) => ids.length > 0))
          .subscribe(subscriber);
      },
      () => undefined,
    );
    return () => {
      done = true;
      sampling?.unsubscribe();
      listening?.close();
    };
  });
}

const YOU = 'you';
