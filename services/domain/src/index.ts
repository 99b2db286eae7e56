export * from './events';
export { compilePolicy, PolicyError, type PolicyProblem } from './policy/compile-policy';
export { compileCelRule, CelRuleError, type CelRule } from './policy/cel-rule';
export * from './policy/policy-model';
export { addEvent, metricValues, unconvertibleCurrency, emptyAggregates, countSourcesOf, CurrencyError, DAY_MS, NEVER_DAYS, type AggregateState } from './aggregates/customer-aggregates';
export { evaluatePolicy, rfmScore, type Evaluation, type TierDecision } from './tiering/evaluate-policy';
export { applyEvent, applyEventInPlace, newCustomerState, transitionId, HISTORY_LENGTH, type CustomerState, type TierHolding, type TransitionSummary, type ApplyResult } from './tiering/customer-state';
