import { expect } from '@open-wc/testing';
import { firstValueFrom, take, toArray } from 'rxjs';
import { nextSpeaking, notSpeaking, speakingFrom, type SpeakingState } from './speaking.js';

/** Feeds samples (ms, levels) in order and returns who was speaking after each. */
function run(samples: [number, Record<string, number>][]): string[][] {
  let state: SpeakingState = notSpeaking;
  return samples.map(([at, levels]) => {
    state = nextSpeaking(state, new Map(Object.entries(levels)), at);
    return [...state.speaking];
  });
}

describe('nextSpeaking', () => {
  it('turns on at the first loud sample and off only after a second of quiet', () => {
    expect(
      run([
        [0, { ann: 0.001 }],
        [100, { ann: 0.3 }],
        [200, { ann: 0.001 }],
        [1_000, { ann: 0.001 }],
        [1_099, { ann: 0.001 }],
        [1_100, { ann: 0.001 }],
      ]),
    ).to.deep.equal([[], ['ann'], ['ann'], ['ann'], ['ann'], []]);
  });

  it('does not flicker through the pauses between words', () => {
    const words: [number, Record<string, number>][] = [];
    for (let at = 0; at < 3_000; at += 100) words.push([at, { ann: at % 600 < 300 ? 0.2 : 0 }]);
    const speaking = run(words).slice(1);
    expect(speaking.every((ids) => ids.join() === 'ann')).to.be.true;
  });

  it('lists speakers in the order they started, and keeps the same list while nothing changes', () => {
    let state = nextSpeaking(notSpeaking, new Map([['bob', 0.5]]), 0);
    state = nextSpeaking(
      state,
      new Map([
        ['ann', 0.5],
        ['bob', 0.5],
      ]),
      100,
    );
    expect(state.speaking).to.deep.equal(['bob', 'ann']);
    const again = nextSpeaking(
      state,
      new Map([
        ['ann', 0.5],
        ['bob', 0.5],
      ]),
      200,
    );
    expect(again.speaking).to.equal(state.speaking);
  });

  it('takes a level at or under the threshold as quiet, and a missing level as quiet', () => {
    expect(run([[0, { ann: 0.02 }]])).to.deep.equal([[]]);
    expect(
      run([
        [0, { ann: 0.021 }],
        [1_000, {}],
      ]),
    ).to.deep.equal([['ann'], []]);
  });
});

describe('speakingFrom', () => {
  it('samples while subscribed and reports changes only', async () => {
    const levels = [0, 0.5, 0.5, 0, 0, 0];
    let sampled = 0;
    const seen = await firstValueFrom(
      speakingFrom(() => Promise.resolve(new Map([['ann', levels[sampled++] ?? 0]])), {
        intervalMs: 20,
        holdMs: 50,
      }).pipe(take(3), toArray()),
    );
    expect(seen).to.deep.equal([[], ['ann'], []]);
  });

  it('counts a failed sample as quiet', async () => {
    const seen = await firstValueFrom(
      speakingFrom(() => Promise.reject(new Error('closed')), { intervalMs: 10 }).pipe(take(1)),
    );
    expect(seen).to.deep.equal([]);
  });
});
