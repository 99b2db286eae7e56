import path from 'node:path';

/** Where schemas/*.avsc are, from src/ or dist/ (and in the container image). */
export const SCHEMAS_DIR = path.resolve(__dirname, '..', '..', '..', 'schemas');

export const SchemaFiles = {
  customerEvent: path.join(SCHEMAS_DIR, 'customer-event.avsc'),
  tierChanged: path.join(SCHEMAS_DIR, 'tier-changed.avsc'),
  deadLetter: path.join(SCHEMAS_DIR, 'dead-letter.avsc'),
} as const;

export interface TopicNames {
  readonly raw: string;
  readonly events: string;
  readonly eventsDlq: string;
  readonly tierChanged: string;
  readonly tierChangedDlq: string;
}

/**
 * The pipeline's topics, as infra/topics.yaml declares them. A namespace prefixes every
 * name (and consumer groups and Redis keys) so that several pipelines, such as parallel
 * test suites, share one cluster without meeting.
 */
export function topicNames(namespace = ''): TopicNames {
  return {
    raw: `${namespace}customer.events.raw`,
    events: `${namespace}customer.events.v1`,
    eventsDlq: `${namespace}customer.events.dlq`,
    tierChanged: `${namespace}customer.tier-changed.v1`,
    tierChangedDlq: `${namespace}customer.tier-changed.dlq`,
  };
}
