export * from './events';
export { compilePolicy, PolicyError, type PolicyProblem } from './policy/compile-policy';
export { compileCelRule, CelRuleError, type CelRule, type Threshold } from './policy/cel-rule';
export * from './policy/policy-model';
export {
  addEvent, advanceTime, metricValues, unconvertibleCurrency, emptyAggregates, countSourcesOf, dayOf, CurrencyError, DAY_MS, NEVER_DAYS, type AggregateState, type DayBuckets,
} from './aggregates/customer-aggregates';
export { evaluatePolicy, rfmScore, type Evaluation, type TierDecision } from './tiering/evaluate-policy';
export {
  applyEvent, applyEventInPlace, applyOverride, applyOverrideInPlace, OverrideError, reevaluate, reevaluateInPlace, refreshForwardSignalsInPlace, newCustomerState, transitionId, HISTORY_LENGTH,
  type ActiveOverride, type OverrideCommand, type CustomerState, type ForwardSignal, type TierHolding, type TransitionSummary, type ApplyResult,
} from './tiering/customer-state';
export { nextDueTime, type DueScope } from './tiering/due-time';
export type { Assessment } from './tiering/evaluate-customer';
export { forwardSignals, nextTierGaps } from './tiering/forward';
export { lifecycleStage, STAGE_RANK, type OrderTimes, type StageDecision } from './tiering/lifecycle';
export type { HeldBy } from './tiering/hysteresis';
export { checkOverride, tiersOf } from './tiering/overrides';
