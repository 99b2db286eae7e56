import { checkInvariants, type CheckInput, type ObservedTransition, type RunOutcome } from '../chaos/invariants';

const t = (customer: string, dimension: string, version: number, to: string, extra = ''): ObservedTransition => ({
  transitionId: `${customer}/${dimension}/${version}`,
  customerId: customer,
  dimension,
  tierVersion: version,
  toTier: to,
  content: `{"to":"${to}"${extra}}`,
});

const transitions = [t('c1', 'value', 1, 'low'), t('c1', 'value', 2, 'mid'), t('c2', 'value', 1, 'high'), t('c2', 'lifecycle', 1, 'active')];

const outcome = (over: Partial<RunOutcome> = {}): RunOutcome => ({
  canonicalEventIds: ['e1', 'e2', 'e3'],
  transitions,
  customerState: new Map([
    ['c1', '{"tiers":{"value":"mid"}}'],
    ['c2', '{"tiers":{"value":"high"}}'],
  ]),
  deadLetters: ['bad1|TS_ERR_INGEST_INVALID_FIELD'],
  notifierDeadLetters: [],
  deliveries: new Map([['crm', new Map([['c1/value/2', [1_000]], ['c2/value/1', [1_100]]])]]),
  unverifiedDeliveries: 0,
  ...over,
});

const input = (run: RunOutcome, over: Partial<CheckInput> = {}): CheckInput => ({
  reference: outcome(),
  run,
  expectedDeliveries: new Map([['crm', ['c1/value/2', 'c2/value/1']]]),
  windows: [],
  ...over,
});

const areas = (i: CheckInput) => checkInvariants(i).problems.map((p) => p.area);

describe('chaos invariant checker', () => {
  it('finds nothing when the run equals the reference', () => {
    const verdict = checkInvariants(input(outcome()));
    expect(verdict.problems).toEqual([]);
    expect(verdict.figures).toMatchObject({ eventsCounted: 3, transitionsFound: 4, transitionsDuplicated: 0, deliveriesExpected: 2, deliveriesDelivered: 2 });
  });

  it('detects a canonical event twice and one missing', () => {
    const verdict = checkInvariants(input(outcome({ canonicalEventIds: ['e1', 'e1', 'e2'] })));
    expect(verdict.figures).toMatchObject({ eventsDuplicated: 1, eventsMissing: 1 });
    expect(verdict.problems.filter((p) => p.area === 'events')).toHaveLength(2);
  });

  it('detects a duplicated transition', () => {
    const verdict = checkInvariants(input(outcome({ transitions: [...transitions, t('c2', 'value', 1, 'high')] })));
    expect(verdict.figures.transitionsDuplicated).toBe(1);
    expect(verdict.problems.map((p) => p.message).join()).toContain('c2/value/1');
  });

  it('detects a missing transition, and the tier_version gap it leaves', () => {
    const verdict = checkInvariants(input(outcome({ transitions: transitions.filter((x) => x.transitionId !== 'c1/value/1') })));
    expect(verdict.figures).toMatchObject({ transitionsMissing: 1, versionGaps: 1 });
  });

  it('detects a tier_version gap present in both runs', () => {
    const gappy = [t('c1', 'value', 1, 'low'), t('c1', 'value', 3, 'mid')];
    const verdict = checkInvariants(input(outcome({ transitions: gappy }), { reference: outcome({ transitions: gappy }) }));
    expect(verdict.figures.versionGaps).toBe(1);
    expect(verdict.problems.map((p) => p.message).join()).toContain('c1/value/2');
  });

  it('detects a final-tier difference and a transition whose content differs', () => {
    const changed = transitions.map((x) => (x.transitionId === 'c1/value/2' ? t('c1', 'value', 2, 'vip') : x));
    const verdict = checkInvariants(input(outcome({ transitions: changed })));
    expect(verdict.figures).toMatchObject({ finalTierDifferences: 1, transitionsDiffering: 1 });
  });

  it('detects a difference of the scoring state (an event counted twice)', () => {
    const state = new Map([
      ['c1', '{"tiers":{"value":"mid"},"orders":2}'],
      ['c2', '{"tiers":{"value":"high"}}'],
    ]);
    expect(areas(input(outcome({ customerState: state })))).toEqual(['state']);
  });

  it('detects a dead letter missing or extra', () => {
    expect(areas(input(outcome({ deadLetters: [] })))).toEqual(['dead-letters']);
    expect(areas(input(outcome({ deadLetters: ['bad1|TS_ERR_INGEST_INVALID_FIELD', 'x|TS_ERR_OTHER'] })))).toEqual(['dead-letters']);
  });

  it('detects a missing delivery', () => {
    const verdict = checkInvariants(input(outcome({ deliveries: new Map([['crm', new Map([['c1/value/2', [1_000]]])]]) })));
    expect(verdict.figures.deliveriesMissing).toBe(1);
    expect(verdict.problems.map((p) => p.area)).toEqual(['deliveries']);
  });

  it('accepts one repeat per (subscriber, customer) inside a duplicate window, and refuses one outside', () => {
    const twice = outcome({ deliveries: new Map([['crm', new Map([['c1/value/2', [1_000, 9_000]], ['c2/value/1', [1_100, 9_100]]])]]) });
    const inside = { cause: 'kill -9 notifier', from: 500, to: 1_200 };
    expect(checkInvariants(input(twice, { windows: [inside] })).problems).toEqual([]);
    const outside = checkInvariants(input(twice, { windows: [{ ...inside, from: 5_000, to: 6_000 }] }));
    expect(outside.figures).toMatchObject({ deliveriesDuplicated: 2, deliveriesDuplicatedOutsideWindow: 2 });
    expect(outside.problems.map((p) => p.area)).toEqual(['deliveries']);
  });

  it('refuses a second repeat of one customer chain within one window, accepts it with a second window', () => {
    const thrice = outcome({ deliveries: new Map([['crm', new Map([['c1/value/2', [1_000, 1_100, 9_000]], ['c2/value/1', [1_100]]])]]) });
    const one = checkInvariants(input(thrice, { windows: [{ cause: 'kill', from: 500, to: 1_200 }] }));
    expect(one.figures).toMatchObject({ deliveriesDuplicated: 2, deliveriesDuplicatedOutsideWindow: 1 });
    const two = checkInvariants(input(thrice, { windows: [{ cause: 'kill', from: 500, to: 1_050 }, { cause: 'redis', from: 1_050, to: 1_200 }] }));
    expect(two.problems).toEqual([]);
  });

  it('detects a delivery that failed verification', () => {
    expect(areas(input(outcome({ unverifiedDeliveries: 1 })))).toEqual(['deliveries']);
  });
});
