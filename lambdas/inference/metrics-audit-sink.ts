import type { AuditRecord, AuditSink } from './audit.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/** CloudWatch namespace of the gateway's metrics. */
export const GATEWAY_METRICS_NAMESPACE = 'Tessera/Gateway';

/** The `Service` dimension's one value (every gateway metric carries it, alone or with `Tier`). */
export const GATEWAY_METRICS_SERVICE = 'gateway';

/** `Tier` of a record without a tenant (a refused credential, a request without one). */
export const NO_TIER = 'none';

/**
 * Metric names of the gateway's EMF lines, by dimension set:
 * - `[Service]` and `[Service, Tier]`: `Requests`, `Latency` (ms, whole request), `ClientErrors`
 *   (4xx), `ServerErrors` (5xx), `Throttles` (429: rate limits and budgets), `Tokens`
 *   (prompt + completion), `CostUsd` (USD at the catalog's prices);
 * - `[StatusCode]`: `ErrorResponses`, one per answer of 400 or more;
 * - `[Provider]`: `ProviderRequests`, `UpstreamLatency` (ms to the answer or first chunk),
 *   `UpstreamErrors` (502/504: the upstream failed or timed out; not the 504 `request_deadline_exceeded`
 *   of a request the router ended itself before its Lambda's timeout, lambda-deadline.ts: a long
 *   request, not a failing provider, whose alarm it would otherwise raise);
 * - `[Service]` again: `CoolingSkips`, 1 for a request whose chain skipped a cooling model (model-health.ts: the record's
 *   `detail.skippedCoolingModels`, also a plain field of the line), only on such requests' lines. The start and the
 *   end of a cooldown are log lines of their own (`model cooling down`, `model stopped cooling`), one per environment;
 * - `[Service]`: `RequestEventFailures`, the `Gateway Request Completed` events not delivered to the platform bus
 *   (request-events.ts: a failed PutEvents, an entry refused or too large), a line of its own per failed send;
 * - `[Service]` and `[Service, Tier]`: `CacheHits`, 1 for a request answered from the response cache
 *   (response-cache/request-cache.ts: the record's `responseCache.status` HIT), only on such requests' lines; a HIT
 *   called no upstream, so its line has no `[Provider]` metrics.
 */
export const GATEWAY_METRICS = {
  requests: 'Requests', latency: 'Latency', clientErrors: 'ClientErrors', serverErrors: 'ServerErrors', throttles: 'Throttles',
  tokens: 'Tokens', costUsd: 'CostUsd', errorResponses: 'ErrorResponses',
  providerRequests: 'ProviderRequests', upstreamLatency: 'UpstreamLatency', upstreamErrors: 'UpstreamErrors',
  coolingSkips: 'CoolingSkips', requestEventFailures: 'RequestEventFailures', cacheHits: 'CacheHits',
} as const;

/**
 * Log fields (EMF properties, not dimensions) that Contributor Insights rules key on. A tenant id
 * as a dimension would be one custom metric per tenant and metric; as a field it costs nothing
 * until a rule matches it.
 */
export const GATEWAY_LOG_FIELDS = { tenantId: 'tenantId', tier: 'Tier', tokens: 'Tokens', costUsd: 'CostUsd', statusCode: 'StatusCode' } as const;

interface MetricDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: Array<{ Name: string; Unit: string }>;
}

/**
 * The CloudWatch embedded metric format (EMF) object for one audit record: one log line, up to
 * five metric directives (totals and per tier; per error status code; per provider; a cooling skip; a cache hit), and the
 * record's tenant, model (and alias asked for), key and request ids as plain fields. Raw EMF rather than Powertools
 * Metrics: Powertools applies one set of dimensions to every metric of a flush, so per-provider
 * upstream latency and per-code errors would be multiplied by every tier, or take three lines.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export function gatewayMetricsOf(record: AuditRecord): Record<string, unknown> {
  const ns = GATEWAY_METRICS_NAMESPACE;
  const m = GATEWAY_METRICS;
  const status = record.status;
  const tokens = (record.promptTokens ?? 0) + (record.completionTokens ?? 0);
  const directives: MetricDirective[] = [{
    Namespace: ns,
    Dimensions: [['Service'], ['Service', 'Tier']],
    Metrics: [
      { Name: m.requests, Unit: 'Count' }, { Name: m.latency, Unit: 'Milliseconds' },
      { Name: m.clientErrors, Unit: 'Count' }, { Name: m.serverErrors, Unit: 'Count' }, { Name: m.throttles, Unit: 'Count' },
      { Name: m.tokens, Unit: 'Count' }, { Name: m.costUsd, Unit: 'None' },
    ],
  }];
  const line: Record<string, unknown> = {
    _aws: { Timestamp: Date.parse(record.at) || Date.now(), CloudWatchMetrics: directives },
    Service: GATEWAY_METRICS_SERVICE,
    Tier: record.tier ?? NO_TIER,
    [m.requests]: 1,
    [m.latency]: record.latencyMs,
    [m.clientErrors]: status >= 400 && status < 500 ? 1 : 0,
    [m.serverErrors]: status >= 500 ? 1 : 0,
    [m.throttles]: status === 429 ? 1 : 0,
    [m.tokens]: tokens,
    [m.costUsd]: record.costUsd ?? 0,
    StatusCode: String(status),
    requestId: record.requestId,
    outcome: record.outcome,
  };
  if (record.tenantId) line.tenantId = record.tenantId;
  if (record.model) line.model = record.model;
  if (record.requestedModel) line.requestedModel = record.requestedModel; // the alias asked for (model: the catalog id served)
  if (record.keyId) line.keyId = record.keyId;
  if (status >= 400) {
    directives.push({ Namespace: ns, Dimensions: [['StatusCode']], Metrics: [{ Name: m.errorResponses, Unit: 'Count' }] });
    line[m.errorResponses] = 1;
  }
  const hit = record.responseCache?.status === 'HIT';
  if (hit) {
    directives.push({ Namespace: ns, Dimensions: [['Service'], ['Service', 'Tier']], Metrics: [{ Name: m.cacheHits, Unit: 'Count' }] });
    line[m.cacheHits] = 1;
  }
  if (record.provider && !hit) {
    const metrics: MetricDirective['Metrics'] = [{ Name: m.providerRequests, Unit: 'Count' }, { Name: m.upstreamErrors, Unit: 'Count' }];
    if (record.upstreamLatencyMs !== undefined) metrics.push({ Name: m.upstreamLatency, Unit: 'Milliseconds' });
    directives.push({ Namespace: ns, Dimensions: [['Provider']], Metrics: metrics });
    Object.assign(line, {
      Provider: record.provider,
      [m.providerRequests]: 1,
      [m.upstreamErrors]: status === 502 || (status === 504 && record.outcome !== 'request_deadline_exceeded') ? 1 : 0,
      ...(record.upstreamLatencyMs !== undefined ? { [m.upstreamLatency]: record.upstreamLatencyMs } : {}),
    });
  }
  const skipped = record.detail?.skippedCoolingModels;
  if (skipped !== undefined) {
    directives.push({ Namespace: ns, Dimensions: [['Service']], Metrics: [{ Name: m.coolingSkips, Unit: 'Count' }] });
    Object.assign(line, { [m.coolingSkips]: 1, skippedCoolingModels: skipped });
  }
  return line;
}

/** Powertools' switch for metrics output (`POWERTOOLS_METRICS_DISABLED`), read as its Metrics read it: `true` or `1`. */
const metricsDisabled = () => /^(true|1)$/i.test(process.env.POWERTOOLS_METRICS_DISABLED ?? '');

/**
 * Writes each audit record to `inner` (the immutable audit bucket) and prints its metrics as one
 * EMF line on stdout, which Lambda ships to the function's log group, where CloudWatch extracts
 * the metrics and Contributor Insights rules rank tenants. The line goes to stdout itself, not
 * through `console.log`, whose prefix (time, request id, level) would make it no longer JSON.
 */
export class MetricsAuditSink implements AuditSink {
  constructor(
    private readonly inner: AuditSink,
    /**
     * Where lines go. @default - process.stdout, unless `POWERTOOLS_METRICS_DISABLED` is `true` (or `1`):
     * then nowhere, as Powertools' own Metrics emit nothing then (Powertools for AWS Lambda, "Environment variables")
     */
    private readonly print: (line: string) => void = metricsDisabled() ? () => undefined : (line) => void process.stdout.write(line),
  ) {}

  write(record: AuditRecord): Promise<void> {
    try {
      this.print(`${JSON.stringify(gatewayMetricsOf(record))}\n`);
    } catch (e) {
      // A metric is never worth an audit record: the record is written whatever happens here.
      logger.error('gateway metrics line failed', { requestId: record.requestId, error: (e as Error).message });
    }
    return this.inner.write(record);
  }
}
