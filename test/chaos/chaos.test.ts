import { chaosOptionsFromEnv, runChaos, stopChaosStack, type ChaosResult } from './chaos-suite';
import type { Area } from './invariants';

// The run is one long beforeAll; the tests below each assert one part of the invariant on
// its outcome, so a failure names what broke. Run with `npm run test:chaos` (test/chaos/run-chaos.js).
const options = chaosOptionsFromEnv();
const limitMs = 30 * 60_000 + options.events * 20;

describe(`chaos: ${options.events} events through the real stack and the workers as processes, seed ${options.seed}`, () => {
  let result: ChaosResult | undefined;
  beforeAll(async () => {
    result = await runChaos(options);
  }, limitMs);
  afterAll(async () => {
    if (process.env['CHAOS_KEEP_STACK'] !== '1') await stopChaosStack();
  }, 120_000);

  const problems = (area: Area): string[] => {
    if (!result) throw new Error('the chaos run did not complete (see its log above)');
    return [...result.referenceVerdict.problems, ...result.verdict.problems].filter((p) => p.area === area).map((p) => p.message);
  };

  it('every accepted event is on customer.events.v1 exactly once (read_committed)', () => {
    expect(problems('events')).toEqual([]);
    expect(result?.verdict.figures.eventsCounted).toBeGreaterThan(0);
  });

  it('every event is counted once in scoring state: Redis aggregates and tiers equal the reference', () => {
    expect(problems('state')).toEqual([]);
  });

  it('no transition lost or duplicated under faults, none differs, no tier_version gap, final tiers equal', () => {
    expect(problems('transitions')).toEqual([]);
    expect(result?.verdict.figures.transitionsFound).toBeGreaterThan(0);
  });

  it('dead letters are those of the fault-free run', () => {
    expect(problems('dead-letters')).toEqual([]);
    expect(result?.verdict.figures.deadLettersExpected).toBeGreaterThan(0);
  });

  it('every filtered transition delivered to every webhook subscriber, repeats only within the duplicate window', () => {
    expect(problems('deliveries')).toEqual([]);
    expect(result?.verdict.figures.deliveriesExpected).toBeGreaterThan(0);
  });

  it('during each outage the workers report not-ready naming the part, and every fault is recovered from', () => {
    if (!result) throw new Error('the chaos run did not complete (see its log above)');
    expect(result.operational).toEqual([]);
  });
});
