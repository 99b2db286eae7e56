import { scoringSettingsFromEnv } from './scoring-settings';

describe('scoringSettingsFromEnv', () => {
  it('defaults: 4 partitions at once, 256 KiB fetches, a week of lateness, the sweep on for 2 s a batch, the policy clock', () => {
    const s = scoringSettingsFromEnv({});
    expect(s).toMatchObject({ concurrency: 4, fetchMaxBytes: 262_144, allowedLatenessMs: 168 * 3_600_000, sweep: true, sweepLimit: 1000, batchTimeMs: 2000 });
    expect(s.tick).toEqual(s.policy.clock.wallClockTick);
  });

  it('names every bad variable at once', () => {
    expect(() => scoringSettingsFromEnv({ SCORING_CONCURRENCY: '0', SCORING_FETCH_MAX_BYTES: 'lots', SCORING_SWEEP_LIMIT: '-1', SCORING_BATCH_TIME_MS: '5' })).toThrow(
      /SCORING_CONCURRENCY[\s\S]*SCORING_FETCH_MAX_BYTES[\s\S]*SCORING_SWEEP_LIMIT[\s\S]*SCORING_BATCH_TIME_MS/,
    );
  });
});
