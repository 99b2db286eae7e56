export { buildNotifier, notifierGroupId, NotifierWorker } from './notifier-worker';
export { notifierSettingsFromEnv, NOTIFIER_ENV_VARIABLES, type NotifierSettings } from './notifier-settings';
export { parseSubscribersFile, readSubscribersFile, validateSubscribers, WEBHOOK_DEFAULTS, type Subscriber, type SubscriberFilter, type WebhookSubscriber, type LogSubscriber } from './subscribers';
export { matchesFilter } from './filter';
export { WebhookSigner, type SignatureHeaders } from './signing';
export { tierChangedPayload, webhookBody, EVENT_TYPE, type TierChangedPayload } from './payload';
export { backoffDelay, backoffCeiling } from './backoff';
export { deliverWithRetry, DeliveryAbortedError, type DeliveryOutcome } from './retry-delivery';
