import type { TenantStatement } from './schema.js';

/** The bus event a billing system subscribes to: one per tenant and month. */
export const TENANT_USAGE_REPORTED = 'Tenant Usage Reported';
/** Its source on the platform bus. */
export const STATEMENTS_EVENT_SOURCE = 'tessera.statements';

/** Meter names of the event (SBT's `meterApiName`s). */
export const USAGE_METERS = {
  totalUsd: 'tessera.total_usd',
  gatewayTokens: 'tessera.gateway.tokens',
  gatewayCostUsd: 'tessera.gateway.cost_usd',
  /** A quantity for information: its cost is in `tessera.infrastructure.cost_usd` (no fine-tuning cost meter: it would count it twice). */
  fineTuningGpuHours: 'tessera.fine_tuning.gpu_hours',
  infrastructureCostUsd: 'tessera.infrastructure.cost_usd',
} as const;

/**
 * The detail of `Tenant Usage Reported`, shaped like SBT's `ingestUsage` event (detail-type
 * `sbt_aws_ingestUsage`; required detail: `tenantId`, `meterApiName`, `meterValue`, with further
 * values as dimensions: awslabs/sbt-aws src/utils/event-manager.ts and the SBT Amberflo metering
 * docs, "Ingest Usage Events"): the top level is the month's total in USD, so an SBT metering
 * provider ingests it unchanged; `usage` carries one `{ meterApiName, meterValue }` per meter
 * for billing systems that price them separately. The cost meters other than the total,
 * `tessera.gateway.cost_usd` and `tessera.infrastructure.cost_usd`, add up to it: fine-tuning has
 * no cost meter of its own, since SageMaker bills the tenant's training jobs inside infrastructure
 * (its GPU hours are a quantity for information, not to be priced again).
 *
 * `idempotencyKey` (`<tenant>:<month>:<revision>:<first 16 hex of the statement's SHA-256>`) is one
 * report's: a re-run that finds the statement unchanged emits nothing; a re-run whose event went out
 * but whose objects were not written emits that event again, same key, which a consumer uses to drop
 * the duplicate (Stripe's meter event `identifier`, Marketplace's idempotent MeterUsage). Changed
 * figures (Cost Explorer finalising late) carry a new key and `revision` > 1: the consumer replaces
 * the month's figures. The revision is in the key because figures can change back: with the hash
 * alone, a third report equal to the first (100, 120, 100) had the first's key and was dropped as
 * its repeat, leaving 120 billed.
 */
export interface TenantUsageReported {
  tenantId: string;
  meterApiName: typeof USAGE_METERS.totalUsd;
  meterValue: number;
  month: string;
  currency: 'USD';
  /** true while Cost Explorer's figures for the month are estimated. */
  estimated: boolean;
  usage: Array<{ meterApiName: string; meterValue: number }>;
  idempotencyKey: string;
  /** 1 for the month's first report, then +1 each time its figures change. */
  revision: number;
  /**
   * The month's previous report (revision > 1): a consumer that adds up usage (Stripe meters sum)
   * sends the difference. `estimated`: whether that report's figures were estimated (absent for a
   * report written before the statements recorded it).
   */
  previous?: { revision: number; meterValue: number; estimated?: boolean };
  /**
   * The latest earlier report whose figures were final (`estimated` false), absent when there is
   * none. A consumer that skips estimated reports (bills final figures only) sends
   * `meterValue - previousFinal.meterValue` (or all of `meterValue` without it): subtracting
   * `previous` instead would take off an estimated total it never billed.
   */
  previousFinal?: { revision: number; meterValue: number };
  statement: { bucket: string; json: string; csv: string };
}

/**
 * Object keys of a tenant's month in the statements bucket: the statement (JSON, CSV) and the last
 * `Tenant Usage Reported` detail put for it (`event`, kept before it is put: monthly-statements.ts).
 */
export const statementKeys = (month: string, tenantId: string) => ({ json: `statements/${month}/${tenantId}.json`, csv: `statements/${month}/${tenantId}.csv`, event: `statements/${month}/${tenantId}.event.json` });

/** What the month's earlier reports said: the stored revision's total (and whether it was estimated), and the latest final one. */
export interface EarlierReports {
  previousTotalUsd?: number;
  previousEstimated?: boolean;
  previousFinal?: { revision: number; meterValue: number };
}

/** The event detail for a statement (`hash`: hex SHA-256 of the statement without generatedAt; `earlier`: the month's stored reports). */
export function usageReported(s: TenantStatement, bucket: string, hash: string, revision: number, earlier: EarlierReports = {}): TenantUsageReported {
  const { previousTotalUsd, previousEstimated, previousFinal } = earlier;
  return {
    tenantId: s.tenantId, meterApiName: USAGE_METERS.totalUsd, meterValue: s.totalUsd, month: s.month, currency: 'USD', estimated: s.infrastructure.estimated,
    usage: [
      { meterApiName: USAGE_METERS.gatewayTokens, meterValue: s.gateway.totalTokens },
      { meterApiName: USAGE_METERS.gatewayCostUsd, meterValue: s.gateway.costUsd },
      { meterApiName: USAGE_METERS.fineTuningGpuHours, meterValue: s.fineTuning.gpuHours },
      { meterApiName: USAGE_METERS.infrastructureCostUsd, meterValue: s.infrastructure.costUsd },
      { meterApiName: USAGE_METERS.totalUsd, meterValue: s.totalUsd },
    ],
    idempotencyKey: `${s.tenantId}:${s.month}:${revision}:${hash.slice(0, 16)}`, revision,
    ...(revision > 1 && previousTotalUsd !== undefined ? { previous: { revision: revision - 1, meterValue: previousTotalUsd, ...(previousEstimated !== undefined ? { estimated: previousEstimated } : {}) } } : {}),
    ...(revision > 1 && previousFinal ? { previousFinal } : {}),
    statement: { bucket, json: statementKeys(s.month, s.tenantId).json, csv: statementKeys(s.month, s.tenantId).csv },
  };
}
