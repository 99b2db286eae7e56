import type { TierChanged } from '@tierstream/domain';
import type { SubscriberFilter } from './subscribers';

/**
 * Whether a subscriber wants a change: every list given must match (an absent list matches
 * all). `tiers` matches when the change leaves or enters a listed tier. Names compare exactly.
 */
export function matchesFilter(filter: SubscriberFilter, change: Pick<TierChanged, 'dimension' | 'from_tier' | 'to_tier' | 'direction'>): boolean {
  if (filter.dimensions && !filter.dimensions.includes(change.dimension)) return false;
  if (filter.directions && !filter.directions.includes(change.direction)) return false;
  if (filter.tiers && !filter.tiers.includes(change.to_tier) && !(change.from_tier !== null && filter.tiers.includes(change.from_tier))) return false;
  return true;
}
