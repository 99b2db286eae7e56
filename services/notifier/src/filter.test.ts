import { matchesFilter } from './filter';
import type { SubscriberFilter } from './subscribers';
import { tierChange } from './testing/fixtures';

const up = tierChange({ dimension: 'value', from_tier: 'silver', to_tier: 'gold', direction: 'UP' });
const initial = tierChange({ dimension: 'lifecycle', from_tier: null, to_tier: 'active', direction: 'INITIAL' });

describe('matchesFilter', () => {
  it('matches every change when the filter is empty', () => {
    expect(matchesFilter({}, up)).toBe(true);
    expect(matchesFilter({}, initial)).toBe(true);
  });

  it.each<[string, SubscriberFilter, boolean]>([
    ['a listed dimension', { dimensions: ['value', 'rfm'] }, true],
    ['an unlisted dimension', { dimensions: ['lifecycle'] }, false],
    ['a listed direction', { directions: ['UP', 'DOWN'] }, true],
    ['an unlisted direction', { directions: ['DOWN', 'INITIAL', 'LATERAL'] }, false],
    ['the tier it enters', { tiers: ['gold'] }, true],
    ['the tier it leaves', { tiers: ['silver'] }, true],
    ['neither tier', { tiers: ['platinum', 'bronze'] }, false],
    ['names compared exactly (case matters)', { tiers: ['Gold'] }, false],
    ['all three lists matching', { dimensions: ['value'], tiers: ['gold'], directions: ['UP'] }, true],
    ['all but one list matching', { dimensions: ['value'], tiers: ['gold'], directions: ['DOWN'] }, false],
  ])('for silver -> gold UP in value: %s gives %s', (_what, filter, expected) => {
    expect(matchesFilter(filter, up)).toBe(expected);
  });

  it('matches a first tier (no from_tier) only by the tier it enters', () => {
    expect(matchesFilter({ tiers: ['active'] }, initial)).toBe(true);
    expect(matchesFilter({ tiers: ['none', 'null', ''] }, initial)).toBe(false);
    expect(matchesFilter({ directions: ['INITIAL'], dimensions: ['lifecycle'] }, initial)).toBe(true);
  });
});
