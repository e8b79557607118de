import { describe, expect, it } from 'vitest';
import { Faults } from './faults.js';

describe('injected Calls faults', () => {
  it('fail the next N, then at a rate, until the bad spell is over', () => {
    const faults = new Faults();
    faults.set({ status: 503, failNext: 2, rate: 0.5, rateLimitedTo: 3 });
    const coin = [0.1, 0.9, 0.2, 0.3, 0.1, 0.1];
    const outcomes = Array.from({ length: 8 }, (_, i) =>
      faults.failureFor('/v1/apps/a/sessions/new', () => coin[i - 2] ?? 0) ? 'fail' : 'ok',
    );
    // Two of failNext, then the coin: fail, ok, fail, fail, and no more after three from the rate.
    expect(outcomes).toEqual(['fail', 'fail', 'fail', 'ok', 'fail', 'fail', 'ok', 'ok']);
    expect(faults.injected).toBe(5);
  });

  it('start a new spell when set again', () => {
    const faults = new Faults();
    faults.set({ rate: 1, rateLimitedTo: 1 });
    expect(faults.failureFor('/x')).not.toBeNull();
    expect(faults.failureFor('/x')).toBeNull();
    faults.set({ rate: 1, rateLimitedTo: 1 });
    expect(faults.failureFor('/x')).not.toBeNull();
  });
});
