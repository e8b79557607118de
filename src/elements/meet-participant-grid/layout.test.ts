import { expect } from '@open-wc/testing';
import {
  gridLayout,
  gridRects,
  orderTiles,
  spotlightLayout,
  stableOrder,
  type GridLayoutOptions,
} from './layout.js';

describe('gridLayout', () => {
  // Options → [columns, rows, tileWidth, tileHeight]; gap 8 and 16:9 unless given.
  const cases: [string, GridLayoutOptions, [number, number, number, number]][] = [
    ['1 tile fills 16:9', { width: 1600, height: 900, count: 1 }, [1, 1, 1600, 900]],
    ['2 tiles side by side', { width: 1600, height: 900, count: 2 }, [2, 1, 796, 447]],
    ['3 tiles in 2×2', { width: 1600, height: 900, count: 3 }, [2, 2, 792, 445]],
    ['4 tiles in 2×2', { width: 1600, height: 900, count: 4 }, [2, 2, 792, 445]],
    ['2 tiles stacked when tall', { width: 900, height: 1600, count: 2 }, [1, 2, 900, 506]],
    ['3 tiles in a row when wide', { width: 1600, height: 200, count: 3 }, [3, 1, 355, 199]],
    ['no gap', { width: 1600, height: 450, count: 2, gap: 0 }, [2, 1, 800, 450]],
    ['a wide gap', { width: 1000, height: 600, count: 4, gap: 20 }, [2, 2, 490, 275]],
    ['square tiles', { width: 1000, height: 1000, count: 4, gap: 0, aspectRatio: 1 }, [2, 2, 500, 500]],
    ['4:3 tiles', { width: 1600, height: 900, count: 1, aspectRatio: 4 / 3 }, [1, 1, 1200, 900]],
    ['no tiles', { width: 1600, height: 900, count: 0 }, [0, 0, 0, 0]],
    ['no space', { width: 0, height: 0, count: 3 }, [1, 3, 0, 0]],
    ['less space than the gaps', { width: 10, height: 10, count: 9 }, [1, 9, 0, 0]],
    ['unmeasured space', { width: NaN, height: -5, count: 2 }, [1, 2, 0, 0]],
  ];
  for (const [name, options, [columns, rows, tileWidth, tileHeight]] of cases) {
    it(name, () => expect(gridLayout(options)).to.deep.equal({ columns, rows, tileWidth, tileHeight }));
  }

  it('keeps the aspect ratio and fits every tile in the space', () => {
    for (const width of [0, 37, 320, 1024, 1920])
      for (const height of [0, 48, 240, 768, 1080])
        for (const count of [1, 2, 3, 5, 7, 12, 25])
          for (const aspectRatio of [16 / 9, 4 / 3, 1, 9 / 16]) {
            const gap = 8;
            const at = JSON.stringify({ width, height, count, aspectRatio });
            const { columns, rows, tileWidth, tileHeight } = gridLayout({
              width,
              height,
              count,
              aspectRatio,
              gap,
            });
            expect(columns * rows, at).to.be.at.least(count);
            expect(columns * (rows - 1), at).to.be.below(count);
            expect(tileWidth, at).to.be.at.least(0);
            expect(tileHeight, at).to.be.at.least(0);
            expect(Math.abs(tileWidth / aspectRatio - tileHeight), at).to.be.below(1);
            if (tileWidth > 0) {
              expect(columns * tileWidth + (columns - 1) * gap, at).to.be.at.most(width);
              expect(rows * tileHeight + (rows - 1) * gap, at).to.be.at.most(height);
            }
          }
  });
});

describe('gridRects', () => {
  it('centres the grid and a shorter last row', () => {
    expect(gridRects({ width: 1600, height: 900, count: 3 })).to.deep.equal([
      { x: 4, y: 1, width: 792, height: 445 },
      { x: 804, y: 1, width: 792, height: 445 },
      { x: 404, y: 454, width: 792, height: 445 },
    ]);
  });

  it('has no rectangles for no tiles', () => {
    expect(gridRects({ width: 1600, height: 900, count: 0 })).to.deep.equal([]);
  });
});

describe('spotlightLayout', () => {
  it('puts the others in a column beside the spotlight when wide', () => {
    expect(spotlightLayout({ width: 1600, height: 900, count: 2 })).to.deep.equal({
      spotlight: { x: 0, y: 0, width: 1194, height: 900 },
      others: [
        { x: 1202, y: 223, width: 398, height: 223 },
        { x: 1202, y: 454, width: 398, height: 223 },
      ],
    });
  });

  it('puts the others below the spotlight when tall', () => {
    expect(spotlightLayout({ width: 900, height: 1600, count: 1 })).to.deep.equal({
      spotlight: { x: 0, y: 0, width: 900, height: 1194 },
      others: [{ x: 96, y: 1202, width: 707, height: 397 }],
    });
  });

  it('gives the spotlight everything when alone', () => {
    expect(spotlightLayout({ width: 1600, height: 900, count: 0 })).to.deep.equal({
      spotlight: { x: 0, y: 0, width: 1600, height: 900 },
      others: [],
    });
  });

  it('never goes negative in a tiny space', () => {
    const { spotlight, others } = spotlightLayout({ width: 4, height: 2, count: 3 });
    for (const rect of [spotlight, ...others])
      for (const value of Object.values(rect)) expect(value).to.be.at.least(0);
  });
});

describe('orderTiles', () => {
  const tile = (id: string, joinedAt: number, local = false, screenShare = false) => ({
    participant: { id, joinedAt },
    local,
    screenShare,
  });

  it('puts you first, then screen shares, then the others by join time and id', () => {
    const you = tile('you', 30, true);
    const yourScreen = tile('you', 30, true, true);
    const annScreen = tile('ann', 10, false, true);
    const ann = tile('ann', 10);
    const bob = tile('bob', 20);
    const bea = tile('bea', 20);
    const early = tile('zed', 5);
    const order = orderTiles([bob, yourScreen, ann, you, bea, annScreen, early]);
    expect(order).to.deep.equal([you, annScreen, yourScreen, early, ann, bea, bob]);
  });

  it('does not change its input', () => {
    const tiles = [tile('b', 2), tile('a', 1)];
    orderTiles(tiles);
    expect(tiles.map((t) => t.participant.id)).to.deep.equal(['b', 'a']);
  });
});

describe('stableOrder', () => {
  for (const [label, previous, current, expected] of [
    ['starts in the given order', [], ['you', 'ann', 'bob'], ['you', 'ann', 'bob']],
    ['adds new keys at the end', ['you', 'ann'], ['you', 'share', 'ann'], ['you', 'ann', 'share']],
    [
      'drops keys that are gone',
      ['you', 'ann', 'share', 'bob'],
      ['you', 'bob', 'ann'],
      ['you', 'ann', 'bob'],
    ],
    [
      'keeps its order when the given order changes',
      ['you', 'ann', 'bob'],
      ['bob', 'you', 'ann'],
      ['you', 'ann', 'bob'],
    ],
    ['empties', ['you'], [], []],
  ] as const)
    it(label, () => expect(stableOrder(previous, current)).to.deep.equal(expected));
});
