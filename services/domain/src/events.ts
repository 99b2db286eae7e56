/**
 * The canonical customer event and the tier-changed event as plain types: the shapes
 * schemas/*.avsc define on the wire, as the domain sees them (money in minor units,
 * time in UTC epoch milliseconds, ids as strings).
 */
export const EVENT_TYPES = ['ORDER', 'REFUND', 'INTERACTION', 'FEEDBACK', 'PROFILE_UPDATE'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const CUSTOMER_TYPES = ['B2B', 'B2C'] as const;
export type CustomerType = (typeof CUSTOMER_TYPES)[number];

export const INTERACTION_KINDS = ['VISIT', 'SUPPORT_CONTACT', 'CAMPAIGN_RESPONSE', 'OTHER'] as const;
export type InteractionKind = (typeof INTERACTION_KINDS)[number];

export const FEEDBACK_KINDS = ['COMPLAINT', 'SATISFACTION'] as const;
export type FeedbackKind = (typeof FEEDBACK_KINDS)[number];

export interface Money {
  readonly amount_minor: number;
  /** ISO-4217 alphabetic code, upper case. */
  readonly currency: string;
}

export interface OrderDetails extends Money {
  readonly order_id: string;
  readonly item_count: number;
}

export interface RefundDetails extends Money {
  readonly order_id: string;
}

export interface InteractionDetails {
  readonly kind: InteractionKind;
  readonly campaign_id: string | null;
}

export interface FeedbackDetails {
  readonly kind: FeedbackKind;
  /** Satisfaction 1 (worst) to 5 (best); null for a complaint without a score. */
  readonly score: number | null;
  readonly comment: string | null;
}

export interface CustomerEvent {
  readonly event_id: string;
  readonly customer_id: string;
  readonly type: EventType;
  /** When it happened, UTC epoch millis: windows slide with this, never with arrival time. */
  readonly event_time: number;
  readonly channel: string | null;
  readonly region: string | null;
  readonly customer_type: CustomerType | null;
  readonly industry: string | null;
  readonly order: OrderDetails | null;
  readonly refund: RefundDetails | null;
  readonly interaction: InteractionDetails | null;
  readonly feedback: FeedbackDetails | null;
  /** Free attributes; for PROFILE_UPDATE, the profile fields that changed. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** Commands for scoring that share the events topic (see schemas/customer-event.avsc); never customer activity. */
export const COMMAND_TYPES = ['OVERRIDE', 'CLOCK_TICK'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

export interface OverrideDetails {
  readonly action: 'SET' | 'CLEAR';
  readonly dimension: string;
  readonly tier: string | null;
  readonly until: number | null;
  readonly reason: string;
  readonly actor: string;
}

/**
 * A record of the canonical events topic as on the wire: a customer event, or a command
 * (OVERRIDE with `override` set; CLOCK_TICK with no customer). Records written before
 * schema version 2 have no `override`.
 */
export type CustomerEventRecord = Omit<CustomerEvent, 'type'> & { readonly type: EventType | CommandType; readonly override?: OverrideDetails | null };

/** A command record (OVERRIDE, CLOCK_TICK): no customer activity, every detail empty but those given. */
export const commandRecord = (
  r: Pick<CustomerEventRecord, 'event_id' | 'customer_id' | 'type' | 'event_time'> & Partial<CustomerEventRecord>,
): CustomerEventRecord => ({
  channel: null, region: null, customer_type: null, industry: null, order: null, refund: null, interaction: null, feedback: null, attributes: {}, override: null, ...r,
});

export const DIRECTIONS = ['UP', 'DOWN', 'INITIAL', 'LATERAL'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const TRANSITION_CAUSES = ['EVENT', 'REEVALUATION', 'OVERRIDE', 'OVERRIDE_EXPIRED'] as const;
export type TransitionCause = (typeof TRANSITION_CAUSES)[number];

export interface TierChanged {
  readonly transition_id: string;
  readonly customer_id: string;
  readonly dimension: string;
  readonly from_tier: string | null;
  readonly to_tier: string;
  readonly direction: Direction;
  readonly cause: TransitionCause;
  readonly rule: string;
  readonly reason: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly score: number | null;
  readonly policy_id: string;
  readonly policy_version: string;
  readonly tier_version: number;
  readonly cause_event_id: string | null;
  readonly cause_event_time: number;
  readonly emitted_at: number;
  readonly region: string | null;
  readonly customer_type: CustomerType | null;
  readonly industry: string | null;
  readonly attributes: Readonly<Record<string, string>>;
  // Forward signals (added in schema version 2, optional with defaults: records of the first
  // version decode with null and {}; producers other than the domain may leave them out).
  /** The next tier up in an ordered dimension; null at the top, in unordered dimensions and in lifecycle. */
  readonly next_tier?: string | null;
  /** What the next tier's rule still needs, per variable (money in minor units); {} when unknown. */
  readonly next_tier_gaps?: Readonly<Record<string, number>>;
  /** The gaps for people, e.g. "needs 1200.00 CNY more spend_365d for gold". */
  readonly next_tier_hint?: string | null;
  /** Event time at which `to_tier` would be lost without new activity; null if not within the horizon. */
  readonly tier_lost_at?: number | null;
  /** The tier the customer would then move to. */
  readonly tier_lost_to?: string | null;
}
