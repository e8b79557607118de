import { expect } from '@open-wc/testing';
import { Subject } from 'rxjs';
import { initialQuality, nextQuality, qualityLevels, type Quality, type QualitySample } from './quality.js';

const clean: QualitySample = { loss: 0, rttMs: 20, jitterMs: 5, silent: false };
const silent: QualitySample = { loss: null, rttMs: null, jitterMs: null, silent: true };
const lossy = (loss: number): QualitySample => ({ ...clean, loss });

/** One sample every half second, as the call takes them; the level after each. */
function levels(samples: readonly QualitySample[], stepMs = 500): Quality[] {
  let state = initialQuality;
  return samples.map((sample, i) => {
    state = nextQuality(state, sample, i * stepMs);
    return state.level;
  });
}

const times = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);

describe('nextQuality', () => {
  const table: [string, QualitySample[], Quality][] = [
    ['clean media is good', times(10, clean), 'good'],
    [
      'nothing measured (everything off) is good',
      times(10, { ...clean, loss: null, rttMs: null, jitterMs: null }),
      'good',
    ],
    ['2% loss is good', times(10, lossy(0.02)), 'good'],
    ['5% loss is fair', times(10, lossy(0.05)), 'fair'],
    ['30% loss is poor', times(10, lossy(0.3)), 'poor'],
    ['a 400 ms round trip is fair', times(10, { ...clean, rttMs: 400 }), 'fair'],
    ['a 1 s round trip is poor', times(10, { ...clean, rttMs: 1_000 }), 'poor'],
    ['80 ms of audio jitter is fair', times(10, { ...clean, jitterMs: 80 }), 'fair'],
    ['200 ms of audio jitter is poor', times(10, { ...clean, jitterMs: 200 }), 'poor'],
    [
      'the worst measure decides',
      times(10, { loss: 0.05, rttMs: 1_000, jitterMs: 5, silent: false }),
      'poor',
    ],
    ['1.5 s of silence is not lost yet', [clean, ...times(3, silent)], 'good'],
    ['2 s of silence is lost', [clean, ...times(4, silent)], 'lost'],
    ['media again after lost: judged afresh', [...times(6, lossy(0.3)), ...times(5, silent), clean], 'good'],
  ];
  for (const [name, samples, expected] of table)
    it(name, () => expect(levels(samples).at(-1)).to.equal(expected));

  it('smooths: one bad second among good ones is not poor', () => {
    const spike = [...times(8, clean), lossy(0.3), ...times(8, clean)];
    // The mean over the window (5 s) of one 30% sample among ten is 3%: fair at most, never poor.
    expect(levels(spike)).to.not.include('poor');
  });

  it('turns poor within 2 s of heavy loss, and good within the window once it stops', () => {
    const run = levels([...times(10, clean), ...times(20, lossy(0.3)), ...times(20, clean)]);
    expect(run.indexOf('fair'), 'at the first lossy sample').to.equal(10);
    expect(run.indexOf('poor')).to.be.within(11, 14);
    const recovered = run.lastIndexOf('poor') + 1;
    expect(run[recovered]).to.not.equal('poor');
    expect(run.slice(-1)).to.deep.equal(['good']);
    expect(recovered - 30, 'half-second samples after the loss stopped').to.be.within(1, 10);
  });

  it('does not flap on a link that hovers around a threshold', () => {
    // Loss swinging slowly (a 10 s period) around the fair threshold (3%), then around poor (10%):
    // the 5 s mean crosses each threshold both ways every period.
    const swing = (centre: number, amplitude: number, i: number) =>
      lossy(centre + amplitude * Math.sin((2 * Math.PI * i) / 20));
    const hovering = [
      ...times(4, clean),
      ...Array.from({ length: 60 }, (_, i) => swing(0.0325, 0.0125, i)),
      ...Array.from({ length: 60 }, (_, i) => swing(0.1, 0.04, i)),
    ];
    const run = levels(hovering);
    const changes = run.flatMap((level, i) => (i > 0 && level !== run[i - 1] ? [`${i}: ${level}`] : []));
    expect(changes).to.have.length(2);
    expect(changes.map((change) => change.split(' ')[1])).to.deep.equal(['fair', 'poor']);
  });

  it('recovers from poor only when clearly better: 7% loss stays poor, 5% is fair', () => {
    expect(levels([...times(10, lossy(0.3)), ...times(20, lossy(0.07))]).at(-1)).to.equal('poor');
    expect(levels([...times(10, lossy(0.3)), ...times(20, lossy(0.05))]).at(-1)).to.equal('fair');
  });

  it('does not count the packets of a silence as loss once media is back', () => {
    // The first sample after a silence has the whole gap in its sequence numbers.
    expect(levels([...times(4, clean), ...times(5, silent), lossy(0.9), ...times(4, clean)]).at(-1)).to.equal(
      'good',
    );
  });

  it('keeps its level through a short silence', () => {
    expect(levels([...times(10, lossy(0.3)), silent, silent]).at(-1)).to.equal('poor');
  });
});

describe('qualityLevels', () => {
  it("gives everyone's level, a new map only when a level changes, without those who left", () => {
    const readings = new Subject<{ at: number; samples: ReadonlyMap<string, QualitySample> }>();
    const seen: Record<string, Quality>[] = [];
    const subscription = qualityLevels(readings).subscribe((levels) => seen.push(Object.fromEntries(levels)));
    const read = (at: number, samples: Record<string, QualitySample>) =>
      readings.next({ at, samples: new Map(Object.entries(samples)) });
    read(0, { ann: clean, bob: clean });
    read(500, { ann: clean, bob: clean });
    for (let at = 1_000; at <= 3_000; at += 500) read(at, { ann: lossy(0.25), bob: clean });
    read(3_500, { ann: lossy(0.25) });
    subscription.unsubscribe();
    expect(seen).to.deep.equal([
      { ann: 'good', bob: 'good' },
      { ann: 'fair', bob: 'good' },
      { ann: 'poor', bob: 'good' },
      { ann: 'poor' },
    ]);
  });
});
