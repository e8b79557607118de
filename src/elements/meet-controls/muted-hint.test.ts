import { expect } from '@open-wc/testing';
import {
  mutedHintWakeAt,
  nextMutedHint,
  noMutedHint,
  type MutedHint,
  type MutedHintInput,
} from './muted-hint.js';

const timing = { lingerMs: 2_000, repeatAfterMs: 20_000 };

/** Feeds inputs (ms, input) in order; returns whether the hint is shown after each, and when it wakes next. */
function run(steps: [number, MutedHintInput][]): [boolean, number | null][] {
  let state: MutedHint = noMutedHint;
  return steps.map(([at, input]) => {
    state = nextMutedHint(state, input, at, timing);
    return [state.shown, mutedHintWakeAt(state, timing)];
  });
}

describe('nextMutedHint', () => {
  const table: [string, [number, MutedHintInput][], [boolean, number | null][]][] = [
    [
      'shows when talking is heard, stays while it goes on, goes 2 s after it stopped',
      [
        [0, 'talking'],
        [5_000, 'quiet'],
        [6_999, 'tick'],
        [7_000, 'tick'],
      ],
      [
        [true, null],
        [true, 7_000],
        [true, 7_000],
        [false, null],
      ],
    ],
    [
      'goes at once when unmuted',
      [
        [0, 'talking'],
        [100, 'unmuted'],
      ],
      [
        [true, null],
        [false, null],
      ],
    ],
    [
      'talking again before it went keeps it (no new announcement)',
      [
        [0, 'talking'],
        [1_000, 'quiet'],
        [2_000, 'talking'],
        [9_000, 'tick'],
      ],
      [
        [true, null],
        [true, 3_000],
        [true, null],
        [true, null],
      ],
    ],
    [
      'once gone, not again for 20 s, then again if they still talk',
      [
        [0, 'talking'],
        [1_000, 'quiet'],
        [3_000, 'tick'],
        [4_000, 'talking'],
        [10_000, 'quiet'],
        [12_000, 'talking'],
        [23_000, 'tick'],
      ],
      [
        [true, null],
        [true, 3_000],
        [false, null],
        [false, 23_000],
        [false, null],
        [false, 23_000],
        [true, null],
      ],
    ],
    [
      'talking after 20 s of quiet shows it at once',
      [
        [0, 'talking'],
        [1_000, 'quiet'],
        [3_000, 'tick'],
        [30_000, 'talking'],
      ],
      [
        [true, null],
        [true, 3_000],
        [false, null],
        [true, null],
      ],
    ],
    [
      'a new mute starts afresh',
      [
        [0, 'talking'],
        [1_000, 'quiet'],
        [3_000, 'tick'],
        [4_000, 'unmuted'],
        [5_000, 'talking'],
      ],
      [
        [true, null],
        [true, 3_000],
        [false, null],
        [false, null],
        [true, null],
      ],
    ],
    [
      'quiet and ticks alone show nothing',
      [
        [0, 'quiet'],
        [1_000, 'tick'],
      ],
      [
        [false, null],
        [false, null],
      ],
    ],
  ];
  for (const [when, steps, expected] of table)
    it(when, () => {
      expect(run(steps)).to.deep.equal(expected);
    });

  it('returns the same state when nothing changed', () => {
    const shown = nextMutedHint(noMutedHint, 'talking', 0, timing);
    expect(nextMutedHint(shown, 'talking', 100, timing)).to.equal(shown);
    expect(nextMutedHint(shown, 'tick', 100, timing)).to.equal(shown);
    expect(nextMutedHint(noMutedHint, 'unmuted', 0, timing)).to.equal(noMutedHint);
  });
});
