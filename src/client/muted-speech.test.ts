import { expect, waitUntil } from '@open-wc/testing';
import { BehaviorSubject } from 'rxjs';
import type { DevicePermission } from './devices.js';
import type { LevelMeter } from './media/level-meter.js';
import { listensWhileMuted, mutedSpeech, type MutedListening } from './muted-speech.js';

describe('listensWhileMuted', () => {
  const base: MutedListening = {
    inMeeting: true,
    microphone: false,
    usedInMeeting: true,
    permission: 'granted',
  };
  const table: [string, Partial<MutedListening>, boolean][] = [
    ['muted in the meeting after talking, permission granted', {}, true],
    ['the microphone is on (the call hears it)', { microphone: true }, false],
    ['in the lobby', { inMeeting: false }, false],
    ['joined muted, never turned it on', { usedInMeeting: false }, false],
    ['the browser would ask first', { permission: 'prompt' }, false],
    ['the microphone is blocked', { permission: 'denied' }, false],
    ['the browser cannot tell (no Permissions API for it)', { permission: 'unknown' }, false],
  ];
  for (const [when, changes, listens] of table)
    it(`${listens ? 'listens' : 'does not listen'}: ${when}`, () => {
      expect(listensWhileMuted({ ...base, ...changes })).to.equal(listens);
    });
});

describe('mutedSpeech', () => {
  /** Sources the test drives, a microphone whose level it sets, and what was opened and closed. */
  function setUp({ microphone = true, used = true } = {}) {
    const sources = {
      inMeeting$: new BehaviorSubject(true),
      microphone$: new BehaviorSubject(microphone),
      usedInMeeting$: new BehaviorSubject(used),
      permission$: new BehaviorSubject<DevicePermission>('granted'),
      device$: new BehaviorSubject<string | null>(null),
    };
    const mic = { level: 0, opened: 0, open: 0 };
    const talking: boolean[] = [];
    const subscription = mutedSpeech({
      ...sources,
      open: () => {
        mic.opened++;
        return Promise.resolve(new MediaStream());
      },
      meter: (): LevelMeter => {
        mic.open++;
        return { level: () => mic.level, close: () => void mic.open-- };
      },
      speaking: { intervalMs: 10, holdMs: 60 },
    }).subscribe((value) => talking.push(value));
    return { ...sources, mic, talking, subscription, latest: () => talking.at(-1) };
  }

  it('hears talking while muted after the microphone was on, and stops listening when unmuted', async () => {
    const t = setUp();
    expect(t.latest()).to.equal(false);
    expect(t.mic.opened, 'not while the call has the microphone').to.equal(0);
    t.microphone$.next(false);
    await waitUntil(() => t.mic.open === 1, 'listening');
    t.mic.level = 0.3;
    await waitUntil(() => t.latest() === true, 'talking heard');
    t.mic.level = 0;
    await waitUntil(() => t.latest() === false, 'quiet again after the hold');
    t.mic.level = 0.3;
    await waitUntil(() => t.latest() === true, 'talking again');
    t.microphone$.next(true);
    expect(t.latest(), 'unmuted: at once').to.equal(false);
    expect(t.mic.open, 'the listening microphone is closed').to.equal(0);
    t.subscription.unsubscribe();
  });

  it('never opens the microphone of someone who has not had it on in the meeting', () => {
    const t = setUp({ microphone: false, used: false });
    expect(t.mic.opened).to.equal(0);
    t.usedInMeeting$.next(true);
    expect(t.mic.opened, 'on once in the meeting, then muted').to.equal(1);
    t.subscription.unsubscribe();
  });

  it('stops listening when leaving, when the permission goes, and opens the newly chosen microphone', async () => {
    const t = setUp();
    t.microphone$.next(false);
    await waitUntil(() => t.mic.open === 1, 'listening');
    t.device$.next('usb-mic');
    await waitUntil(() => t.mic.opened === 2 && t.mic.open === 1, 'the new microphone instead');
    t.permission$.next('denied');
    expect(t.mic.open).to.equal(0);
    t.permission$.next('granted');
    await waitUntil(() => t.mic.open === 1, 'listening again');
    t.inMeeting$.next(false);
    expect(t.mic.open).to.equal(0);
    t.subscription.unsubscribe();
  });

  it('closes a microphone that opens after it stopped listening', async () => {
    let resolve: (stream: MediaStream) => void = () => {};
    const context = new AudioContext();
    const stream = context.createMediaStreamDestination().stream;
    const track = stream.getAudioTracks()[0]!;
    let metered = 0;
    const microphone$ = new BehaviorSubject(true);
    const subscription = mutedSpeech({
      inMeeting$: new BehaviorSubject(true),
      microphone$,
      usedInMeeting$: new BehaviorSubject(true),
      permission$: new BehaviorSubject<DevicePermission>('granted'),
      device$: new BehaviorSubject<string | null>(null),
      open: () => new Promise((r) => (resolve = r)),
      meter: () => {
        metered++;
        return null;
      },
    }).subscribe();
    microphone$.next(false);
    microphone$.next(true);
    resolve(stream);
    await waitUntil(() => track.readyState === 'ended', 'stopped');
    expect(metered).to.equal(0);
    subscription.unsubscribe();
    await context.close();
  });
});
