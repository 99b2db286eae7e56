import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { applyEventInPlace, DAY_MS, newCustomerState, nextDueTime, unconvertibleCurrency, type CustomerEvent, type CustomerState, type Policy } from '@tierstream/domain';
import type { CustomerRecord } from '@tierstream/runtime';
import { generatePopulation } from '@tierstream/cli/dist/demo/population';

/** Stands for the customer id in a template's JSON: replaced by each seeded customer's id. */
export const ID_PLACEHOLDER = '@@bench-customer@@';

/** One synthetic customer history, its stored record as JSON split at the customer id. */
export interface Template {
  /** `record.split(ID_PLACEHOLDER)`: join with a customer id to get that customer's record. */
  readonly parts: readonly string[];
  readonly bytes: number;
  readonly events: number;
}

export interface TemplateSet {
  readonly templates: readonly Template[];
  /** The start of the day every template is next due (nextDueTime, scope decisions). */
  readonly dueTime: number;
  /** Histories dropped: nothing due without new events, or not alignable on whole days. */
  readonly dropped: number;
}

/**
 * Writes a copy of the policy with the wall-clock tick off, so that only the benchmark's
 * clock tick moves the watermark (an idle partition would otherwise be ticked to now).
 */
export function policyWithoutWallClockTick(source: string, dir: string): string {
  const doc = parseDocument(fs.readFileSync(source, 'utf8'));
  doc.setIn(['clock', 'wall_clock_tick'], 'off');
  const file = path.join(dir, `no-tick-${path.basename(source)}`);
  fs.writeFileSync(file, doc.toString());
  return file;
}

/** A customer's state after its events, applied as the worker applies them (in time order, unconvertible currencies skipped). */
function stateAfter(events: readonly CustomerEvent[], policy: Policy, shiftMs: number): CustomerState {
  const state = newCustomerState(ID_PLACEHOLDER);
  for (const e of events) {
    const shifted: CustomerEvent = { ...e, customer_id: ID_PLACEHOLDER, event_time: e.event_time + shiftMs };
    if (unconvertibleCurrency(shifted, policy) !== undefined) continue;
    applyEventInPlace(state, shifted, policy, shifted.event_time);
  }
  return state;
}

/**
 * Builds `count` realistic stored customer records from the demo's synthetic population (a
 * year of Pareto-distributed spend, browsers, customers who stop buying, refunds, feedback),
 * each history shifted by whole days so that every customer is next due on the same day,
 * `dueDay`: a sweep at that watermark re-evaluates every customer once, as the daily sweep
 * does for the customers due that day. Records are stored as the worker stores them
 * (`{ state, pending: [] }`: every earlier transition committed).
 */
export function buildTemplates(policy: Policy, count: number, seed: number, dueDay: number): TemplateSet {
  const population = generatePopulation({ customers: count, days: 365, start: dueDay - 400 * DAY_MS, seed, idPrefix: 'tpl-' });
  const byCustomer = new Map<string, CustomerEvent[]>();
  for (const e of population.events) {
    const list = byCustomer.get(e.customer_id) ?? [];
    list.push(e);
    byCustomer.set(e.customer_id, list);
  }
  const templates: Template[] = [];
  let dropped = 0;
  for (const events of byCustomer.values()) {
    const due = nextDueTime(stateAfter(events, policy, 0), policy, { scope: 'decisions' });
    const shiftMs = due === undefined ? NaN : dueDay - due;
    if (!Number.isInteger(shiftMs / DAY_MS)) {
      dropped++;
      continue;
    }
    const state = stateAfter(events, policy, shiftMs);
    if (nextDueTime(state, policy, { scope: 'decisions' }) !== dueDay) {
      dropped++;
      continue;
    }
    const record: CustomerRecord = { state, pending: [] };
    const json = JSON.stringify(record);
    const parts = json.split(ID_PLACEHOLDER);
    templates.push({ parts, bytes: json.length - ID_PLACEHOLDER.length * (parts.length - 1), events: events.length });
  }
  if (templates.length === 0) throw new Error('no customer history could be aligned on a due day');
  return { templates, dueTime: dueDay, dropped };
}
