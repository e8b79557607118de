import { expect } from '@open-wc/testing';
import { cameraEncodings, layerForWidth } from './layers.js';

describe('layerForWidth', () => {
  const cases: [string, number | undefined, boolean, string][] = [
    ['a tile not measured yet may be large: the top layer', undefined, false, 'f'],
    ['a thumbnail 120 px wide: quarter', 120, false, 'q'],
    ['200 px: quarter (160 px, scaled up by a quarter)', 200, false, 'q'],
    ['201 px: half', 201, false, 'h'],
    ['400 px: half', 400, false, 'h'],
    ['401 px: full', 401, false, 'f'],
    ['a spotlight 1600 px wide: full (there is nothing larger)', 1600, false, 'f'],
    ['zero or nonsense counts as not measured', Number.NaN, false, 'f'],
    ['data saver: quarter, even when large', 1600, true, 'q'],
    ['data saver: quarter, even when not measured', undefined, true, 'q'],
  ];
  for (const [name, width, dataSaver, layer] of cases) {
    it(name, () => expect(layerForWidth(width, { dataSaver })).to.equal(layer));
  }
});

describe('cameraEncodings', () => {
  it('publishes full, half and quarter, highest first (Chrome drops the last from a small camera), all active', () => {
    const encodings = cameraEncodings();
    expect(encodings.map((e) => [e.rid, e.scaleResolutionDownBy, e.active])).to.deep.equal([
      ['f', 1, true],
      ['h', 2, true],
      ['q', 4, true],
    ]);
    expect(encodings.every((e) => e.maxFramerate === undefined)).to.equal(true);
  });

  it('caps the top layer at the bitrate cap and lowers the others in proportion', () => {
    const [f, h, q] = cameraEncodings({ maxBitrate: 600_000, maxFramerate: 15 });
    expect(f!.maxBitrate).to.equal(600_000);
    expect(h!.maxBitrate).to.equal(250_000);
    expect(q!.maxBitrate).to.equal(75_000);
    expect([q, h, f].map((e) => e!.maxFramerate)).to.deep.equal([15, 15, 15]);
  });

  const meaningless: [string, number][] = [
    ['zero', 0],
    ['negative', -5],
    ['not a number', Number.NaN],
    ['infinite', Number.POSITIVE_INFINITY],
  ];
  for (const [name, value] of meaningless) {
    it(`takes a cap that is ${name} as no cap`, () => {
      const encodings = cameraEncodings({ maxBitrate: value, maxFramerate: value });
      expect(encodings.map((e) => e.maxBitrate)).to.deep.equal(cameraEncodings().map((e) => e.maxBitrate));
      expect(encodings.every((e) => !('maxFramerate' in e))).to.equal(true);
    });
  }

  it('never raises a layer above its own bitrate when the cap is high', () => {
    const high = cameraEncodings({ maxBitrate: 10_000_000 });
    expect(high.map((e) => e.maxBitrate)).to.deep.equal(cameraEncodings().map((e) => e.maxBitrate));
  });

  it('data saver sends no full layer', () => {
    expect(cameraEncodings({}, true).map((e) => [e.rid, e.active])).to.deep.equal([
      ['f', false],
      ['h', true],
      ['q', true],
    ]);
  });
});
