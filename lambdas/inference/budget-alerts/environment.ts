/** Environment variables of budget alerts (set by constructs/tenant-budget-alerts.ts and constructs/inference-api.ts); no AWS SDK here, so CDK code may import it. */
export const BUDGET_ALERTS_ENV = {
  /** The gateway's usage table: markers are items of it (`usage#<tenant>#alert#…`). */
  usageTable: 'TESSERA_USAGE_TABLE',
  /** The platform bus the router puts the events on; unset: no budget alerts (logged once per cold start). */
  eventBus: 'TESSERA_EVENT_BUS',
} as const;

/** Environment of the budget alert mail Lambda. */
export const ALERT_EMAIL_ENV = {
  /** The platform's Cognito pool of tenant users. */
  userPoolId: 'TESSERA_USER_POOL_ID',
  /** JSON object: tier name → the SES-verified sender of that tier's alert mail (`tiers.<tier>.budgetAlerts.senderEmail`). */
  senders: 'TESSERA_BUDGET_ALERT_SENDERS',
  /** The gateway's usage table: the once-per-address mail markers are items of it (MAIL_MARKER_PREFIX). */
  usageTable: 'TESSERA_USAGE_TABLE',
} as const;

/** Key prefix of the mail Lambda's markers in the usage table (`alert-mail#<event id>#<sha256 of the address>`); its role may write no other item. */
export const MAIL_MARKER_PREFIX = 'alert-mail#';
