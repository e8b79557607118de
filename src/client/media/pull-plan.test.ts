import { expect } from '@open-wc/testing';
import type { Participant } from '../../protocol/index.js';
import {
  MISSING_MAX_TRIES,
  planPulls,
  videoKey,
  wantedTracks,
  type MissingTrack,
  type PulledTrack,
  type WantedTrack,
} from './pull-plan.js';

const person = (id: string, tracks: Participant['tracks']): Participant => ({
  id,
  name: id,
  role: 'guest',
  joinedAt: 0,
  microphone: !!tracks.microphone,
  camera: !!tracks.camera,
  handRaised: false,
  tracks,
});

const want = (ref: string, participantId = 'ann', slot: WantedTrack['slot'] = 'camera'): WantedTrack => ({
  ref,
  participantId,
  slot,
});
const pulled = (ref: string, mid: string): PulledTrack => ({ ...want(ref), mid });

describe('wantedTracks', () => {
  it('takes every announced track of the others, never our own', () => {
    const wanted = wantedTracks(
      [
        person('me', { microphone: 'aa/microphone' }),
        person('ann', { microphone: 'bb/microphone', camera: 'bb/camera' }),
        person('bob', { screen: 'cc/screen' }),
        person('cy', {}),
      ],
      'me',
    );
    expect([...wanted.values()]).to.deep.equal([
      { ref: 'bb/microphone', participantId: 'ann', slot: 'microphone' },
      { ref: 'bb/camera', participantId: 'ann', slot: 'camera' },
      { ref: 'cc/screen', participantId: 'bob', slot: 'screen' },
    ]);
  });
});

describe('wantedTracks with what is shown', () => {
  it('takes only the videos on screen, and every microphone', () => {
    const people = [
      person('ann', { microphone: 'bb/microphone', camera: 'bb/camera', screen: 'bb/screen' }),
      person('bob', { microphone: 'cc/microphone', camera: 'cc/camera' }),
    ];
    const shown = new Set([videoKey('ann', 'screen'), videoKey('bob', 'camera')]);
    expect([...wantedTracks(people, 'me', shown).keys()]).to.deep.equal([
      'bb/microphone',
      'bb/screen',
      'cc/microphone',
      'cc/camera',
    ]);
    expect([...wantedTracks(people, 'me', new Set()).keys()]).to.deep.equal([
      'bb/microphone',
      'cc/microphone',
    ]);
    expect(wantedTracks(people, 'me', null).size, 'null: everything').to.equal(5);
  });

  it('asks for a layer of each camera only: screens and microphones are not simulcast', () => {
    const people = [
      person('ann', { microphone: 'bb/microphone', camera: 'bb/camera', screen: 'bb/screen' }),
      person('bob', { camera: 'cc/camera' }),
    ];
    const layers = new Map([[videoKey('ann', 'camera'), 'q' as const]]);
    const wanted = wantedTracks(people, 'me', null, (key) => layers.get(key) ?? 'f');
    expect([...wanted.values()].map((t) => [t.ref, t.layer])).to.deep.equal([
      ['bb/microphone', undefined],
      ['bb/camera', 'q'],
      ['bb/screen', undefined],
      ['cc/camera', 'f'],
    ]);
  });
});

describe('planPulls', () => {
  const now = 10_000;
  const cases: {
    name: string;
    wanted: WantedTrack[];
    pulled: PulledTrack[];
    missing: [string, MissingTrack][];
    stalled?: string[];
    expected: {
      drop: string[];
      pull: string[];
      forget: string[];
      nextRetryAt: number | null;
      relayer?: string[];
    };
  }[] = [
    {
      name: 'nothing announced, nothing pulled: nothing to do',
      wanted: [],
      pulled: [],
      missing: [],
      expected: { drop: [], pull: [], forget: [], nextRetryAt: null },
    },
    {
      name: 'pulls what is new',
      wanted: [want('a/camera'), want('a/microphone')],
      pulled: [],
      missing: [],
      expected: { drop: [], pull: ['a/camera', 'a/microphone'], forget: [], nextRetryAt: null },
    },
    {
      name: 'keeps what is pulled and still announced',
      wanted: [want('a/camera')],
      pulled: [pulled('a/camera', '1')],
      missing: [],
      expected: { drop: [], pull: [], forget: [], nextRetryAt: null },
    },
    {
      name: 'drops what is no longer announced (they left or stopped sharing)',
      wanted: [],
      pulled: [pulled('a/camera', '1'), pulled('a/screen', '2')],
      missing: [],
      expected: { drop: ['a/camera', 'a/screen'], pull: [], forget: [], nextRetryAt: null },
    },
    {
      name: 'a new session of theirs: drop the old ref, pull the new one',
      wanted: [want('b/camera')],
      pulled: [pulled('a/camera', '1')],
      missing: [],
      expected: { drop: ['a/camera'], pull: ['b/camera'], forget: [], nextRetryAt: null },
    },
    {
      name: 'a missing track is asked for again only when its time has come',
      wanted: [want('a/camera'), want('a/microphone')],
      pulled: [],
      missing: [
        ['a/camera', { retryAt: now + 500, tries: 1 }],
        ['a/microphone', { retryAt: now - 1, tries: 2 }],
      ],
      expected: { drop: [], pull: ['a/microphone'], forget: [], nextRetryAt: now + 500 },
    },
    {
      name: 'gives up on a track that never appeared',
      wanted: [want('a/camera')],
      pulled: [],
      missing: [['a/camera', { retryAt: now - 1, tries: MISSING_MAX_TRIES }]],
      expected: { drop: [], pull: [], forget: [], nextRetryAt: null },
    },
    {
      name: 'a pulled camera whose tile changed size switches layer, and is not pulled again',
      wanted: [
        { ...want('a/camera'), layer: 'q' },
        { ...want('b/camera', 'bob'), layer: 'f' },
      ],
      pulled: [
        { ...pulled('a/camera', '1'), layer: 'f' },
        { ...pulled('b/camera', '2'), layer: 'f' },
      ],
      missing: [],
      expected: { drop: [], pull: [], forget: [], nextRetryAt: null, relayer: ['a/camera → q'] },
    },
    {
      name: 'a track with no layer asked (a screen) never switches',
      wanted: [want('a/screen')],
      pulled: [{ ...pulled('a/screen', '1'), layer: 'f' }],
      missing: [],
      expected: { drop: [], pull: [], forget: [], nextRetryAt: null },
    },
    {
      name: 'forgets a missing track nobody announces any more',
      wanted: [],
      pulled: [],
      missing: [['a/camera', { retryAt: now + 500, tries: 1 }]],
      expected: { drop: [], pull: [], forget: ['a/camera'], nextRetryAt: null },
    },
    {
      name: 'a stalled track is closed and pulled again; the others stay',
      wanted: [want('a/camera'), want('a/microphone')],
      pulled: [pulled('a/camera', '1'), pulled('a/microphone', '2')],
      missing: [],
      stalled: ['a/camera'],
      expected: { drop: ['a/camera'], pull: ['a/camera'], forget: [], nextRetryAt: null },
    },
    {
      name: 'a stalled track nobody announces any more is only closed',
      wanted: [],
      pulled: [pulled('a/camera', '1')],
      missing: [],
      stalled: ['a/camera'],
      expected: { drop: ['a/camera'], pull: [], forget: [], nextRetryAt: null },
    },
  ];

  for (const { name, wanted, pulled: pulledTracks, missing, stalled = [], expected } of cases) {
    it(name, () => {
      const plan = planPulls({
        wanted: new Map(wanted.map((t) => [t.ref, t])),
        pulled: new Map(pulledTracks.map((t) => [t.ref, t])),
        missing: new Map(missing),
        now,
        stalled: new Set(stalled),
      });
      expect({
        drop: plan.drop.map((t) => t.ref),
        pull: plan.pull.map((t) => t.ref),
        forget: plan.forget,
        nextRetryAt: plan.nextRetryAt,
        relayer: plan.relayer.map((t) => `${t.ref} → ${t.layer}`),
      }).to.deep.equal({ relayer: [], ...expected });
    });
  }
});
