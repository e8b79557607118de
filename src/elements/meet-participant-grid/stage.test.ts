import { expect } from '@open-wc/testing';
import { chooseStage, MIN_TILE_WIDTH, stageCapacity, type StageTile } from './stage.js';

const tile = (id: string, joinedAt: number, extra: Partial<StageTile> = {}): StageTile => ({
  key: `${id} ${extra.screenShare ? 'screen' : 'camera'}`,
  participant: { id, joinedAt },
  local: false,
  screenShare: false,
  ...extra,
});
const keys = <T extends StageTile>(tiles: T[]) => tiles.map((t) => t.key);

const you = tile('you', 5, { local: true });
const [ann, bob, cy, dee, eve] = ['ann', 'bob', 'cy', 'dee', 'eve'].map((id, i) => tile(id, i)) as [
  StageTile,
  StageTile,
  StageTile,
  StageTile,
  StageTile,
];
const everyone = [eve, dee, cy, bob, ann, you];

describe('stageCapacity', () => {
  it('fits as many tiles as stay at least the minimum width', () => {
    expect(stageCapacity({ width: 800, height: 450 })).to.equal(16);
    expect(stageCapacity({ width: 320, height: 568 }), 'a phone: one column').to.equal(5);
    expect(stageCapacity({ width: 150, height: 100 }), 'always one').to.equal(1);
  });

  it('never goes above the cap', () => {
    expect(stageCapacity({ width: 1600, height: 900 }, { cap: 3 })).to.equal(3);
    expect(stageCapacity({ width: 320, height: 568 }, { cap: 6 })).to.equal(5);
  });

  it('takes a cap or a minimum width that is not a positive number as not given', () => {
    const usual = stageCapacity({ width: 800, height: 450 });
    for (const bad of [NaN, -3, 0, Infinity])
      expect(
        stageCapacity({ width: 800, height: 450 }, { cap: bad, minTileWidth: bad }),
        String(bad),
      ).to.equal(usual);
    expect(stageCapacity({ width: 800, height: 450 }, { cap: 2.7 }), 'a whole number of tiles').to.equal(2);
  });

  it('follows the minimum tile width', () => {
    const wide = stageCapacity({ width: 800, height: 450 }, { minTileWidth: MIN_TILE_WIDTH * 2 });
    expect(wide).to.be.lessThan(stageCapacity({ width: 800, height: 450 }));
  });
});

describe('chooseStage', () => {
  it('shows everyone when all fit, you first then by arrival, with nothing hidden', () => {
    const stage = chooseStage(everyone, { capacity: 6 });
    expect(keys(stage.shown)).to.deep.equal(keys([you, ann, bob, cy, dee, eve]));
    expect(stage.hidden).to.deep.equal([]);
  });

  it('keeps a place for "+N" when some do not fit, and gives the rest by arrival', () => {
    const stage = chooseStage(everyone, { capacity: 4 });
    expect(keys(stage.shown)).to.deep.equal(keys([you, ann, bob]));
    expect(keys(stage.hidden)).to.deep.equal(keys([cy, dee, eve]));
  });

  it('brings recent speakers on stage, the most recent first, in a stable display order', () => {
    const lastSpoke = new Map([
      ['eve', 2_000],
      ['dee', 1_000],
    ]);
    const stage = chooseStage(everyone, { capacity: 4, lastSpoke });
    expect(keys(stage.shown), 'displayed by arrival').to.deep.equal(keys([you, dee, eve]));
    const later = chooseStage(everyone, { capacity: 4, lastSpoke: new Map([...lastSpoke, ['dee', 3_000]]) });
    expect(keys(later.shown), 'the same people: nobody moves').to.deep.equal(keys(stage.shown));
  });

  it('gives places to the pinned tile first, then screen shares, then you; shows the pinned first, then you', () => {
    const screen = tile('bob', 1, { screenShare: true });
    const stage = chooseStage([...everyone, screen], { capacity: 4, pinned: 'eve' });
    expect(keys(stage.shown)).to.deep.equal(keys([eve, you, screen]));
    const two = chooseStage([...everyone, screen], { capacity: 3, pinned: 'eve' });
    expect(keys(two.shown), 'the screen before you').to.deep.equal(keys([eve, screen]));
    expect(stage.hidden).to.have.length(4);
  });

  it('pins a camera, never a screen share, and ignores a pin of someone gone', () => {
    const screen = tile('bob', 1, { screenShare: true });
    expect(keys(chooseStage([bob, screen, you], { capacity: 3, pinned: 'bob' }).shown)).to.deep.equal(
      keys([bob, you, screen]),
    );
    expect(keys(chooseStage([ann, you], { capacity: 3, pinned: 'zed' }).shown)).to.deep.equal(
      keys([you, ann]),
    );
  });

  it('shows one tile and the "+N" at the smallest capacity', () => {
    const stage = chooseStage(everyone, { capacity: 1 });
    expect(keys(stage.shown)).to.deep.equal(keys([you]));
    expect(stage.hidden).to.have.length(5);
  });
});
