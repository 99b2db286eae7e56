/**
 * The strings record format v4 refers to by index instead of storing them in each record:
 * aggregate series and window keys, event kinds, lifecycle stages, directions, and the
 * names of the shipped default policy (its metrics, dimensions and tiers). A compression
 * dictionary, nothing more: a string not in it is stored in the record's own table, so any
 * policy works; one in it costs a byte or two instead of its length.
 *
 * FROZEN: records written with format v4 refer to these by position. Changing, removing or
 * reordering an entry corrupts every stored v4 record; a change needs a new format version
 * (customer-record-codec.test.ts pins a hash of this list).
 */
export const RECORD_DICTIONARY_V4: readonly string[] = [
  // The default policy's series and windows (the most used: one byte each below 128).
  'sum:order.amount', 'sum:refund.amount', 'sum:order.items', 'count:ORDER', 'count:REFUND', 'count:INTERACTION', 'count:FEEDBACK',
  'count:VISIT', 'count:COMPLAINT', 'count:SATISFACTION', 'count:SUPPORT_CONTACT', 'count:CAMPAIGN_RESPONSE', 'count:PROFILE_UPDATE', 'count:ANY',
  'max:order.amount', 'distinct:channel', 'distinct:region', 'last:feedback.score', 'last:order.amount',
  'sum:order.amount@30', 'sum:order.amount@90', 'sum:order.amount@365', 'sum:refund.amount@90', 'count:ORDER@90', 'count:ORDER@365',
  'count:INTERACTION@90', 'count:VISIT@30', 'count:COMPLAINT@90',
  // Event kinds (lastSeen keys, recency sources).
  'ANY', 'ORDER', 'REFUND', 'INTERACTION', 'FEEDBACK', 'PROFILE_UPDATE', 'VISIT', 'SUPPORT_CONTACT', 'CAMPAIGN_RESPONSE', 'COMPLAINT', 'SATISFACTION',
  // The default policy's metrics and scores.
  'spend_30d', 'spend_90d', 'spend_365d', 'spend_lifetime', 'refunds_90d', 'orders_90d', 'orders_365d', 'max_order_365d', 'interactions_90d',
  'visits_30d', 'complaints_90d', 'channels_90d', 'satisfaction', 'recency_days', 'refund_rate_90d', 'score', 'points', 'rfm_r', 'rfm_f', 'rfm_m',
  // Its dimensions and tiers, and lifecycle.
  'value', 'vip', 'high', 'mid', 'low', 'rfm_segment', 'champions', 'loyal', 'big_spender', 'at_risk', 'new', 'hibernating', 'regular',
  'membership', 'gold', 'silver', 'normal', 'potential', 'engaged', 'none', 'lifecycle', 'active', 'reactivated', 'churned', 'prospect',
  // Directions, customer types, common channels, the carried attribute.
  'UP', 'DOWN', 'INITIAL', 'LATERAL', 'B2B', 'B2C', 'web', 'app', 'store', 'call-center', 'email', 'sms', 'social', 'pos', 'phone', 'city',
  // Other windows of the usual series.
  'sum:order.amount@7', 'sum:order.amount@14', 'sum:order.amount@60', 'sum:order.amount@180', 'sum:refund.amount@30', 'sum:refund.amount@365',
  'sum:order.items@30', 'sum:order.items@90', 'sum:order.items@365', 'count:ORDER@7', 'count:ORDER@14', 'count:ORDER@30', 'count:ORDER@60',
  'count:ORDER@180', 'count:REFUND@30', 'count:REFUND@90', 'count:REFUND@365', 'count:INTERACTION@30', 'count:INTERACTION@365',
  'count:VISIT@7', 'count:VISIT@90', 'count:VISIT@365', 'count:COMPLAINT@30', 'count:COMPLAINT@365', 'count:FEEDBACK@90', 'count:ANY@30',
  'count:ANY@90', 'count:ANY@365', 'count:SUPPORT_CONTACT@90', 'count:CAMPAIGN_RESPONSE@90', 'count:SATISFACTION@90',
  'max:refund.amount', 'max:order.items',
];
