import { describe, expect, it } from 'vitest';
import { calibrationLoop } from '../../bench/suites/calibration.js';

describe('calibration loop', () => {
  it('is deterministic work: the same checksum every time, a different one for other lengths', () => {
    expect(calibrationLoop(10_000)).toBe(calibrationLoop(10_000));
    expect(calibrationLoop(10_000)).not.toBe(calibrationLoop(10_001));
  });
});
