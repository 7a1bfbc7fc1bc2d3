/** The edge sizing bench's arithmetic: Lambda@Edge cost, the CPU-time scaling estimate, the memory pick. */
import { costPerMillion, recommendMemory, scaledMedianMs } from '../../bench/sizing-cost';

describe('costPerMillion', () => {
  it('is the request fee plus the mean billed duration (rounded up to the ms) × GB × the GB-second price', () => {
    // 1 ms at 128 MB: $0.60 + 1e6 × 0.001 s × 0.125 GB × $0.00005001.
    expect(costPerMillion([1], 128)).toBeCloseTo(0.6 + 0.00625125, 8);
    // 1.2 ms is billed as 2 ms; 1,024 MB is 1 GB.
    expect(costPerMillion([1.2], 1024)).toBeCloseTo(0.6 + 1e6 * 0.002 * 0.00005001, 8);
    // The mean of the billed durations, plus a wait added to each.
    expect(costPerMillion([10, 30], 512, 1000)).toBeCloseTo(0.6 + 1e6 * 1.02 * 0.5 * 0.00005001, 6);
  });
});

describe('scaledMedianMs', () => {
  it('keeps the waits and stretches the CPU time by 1,769 / MB', () => {
    const atOneCpu = [
      { wallMs: 30, cpuMs: 10 },
      { wallMs: 40, cpuMs: 12 },
      { wallMs: 20, cpuMs: 8 },
    ];
    // Median wall 30 ms, median CPU 10 ms: 20 ms of waiting + 10 ms × 1769 / 128.
    expect(scaledMedianMs(atOneCpu, 128, 1769)).toBeCloseTo(20 + (10 * 1769) / 128, 6);
    expect(scaledMedianMs(atOneCpu, 1769, 1769)).toBeCloseTo(30, 6);
  });
});

describe('recommendMemory', () => {
  it('picks the smallest size within the budget of the fastest', () => {
    const medians = [
      { memoryMb: 128, medianMs: 140 },
      { memoryMb: 256, medianMs: 70 },
      { memoryMb: 512, medianMs: 40 },
      { memoryMb: 1024, medianMs: 30 },
    ];
    expect(recommendMemory(medians, 100)).toBe(256);
    expect(recommendMemory(medians, 110)).toBe(128);
    expect(recommendMemory(medians, 5)).toBe(1024);
  });
});
