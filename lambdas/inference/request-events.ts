import type { AuditRecord } from './audit.js';
import { requestRecordView, type RequestRecordView } from './audit-records.js';
import { GATEWAY_METRICS, GATEWAY_METRICS_NAMESPACE, GATEWAY_METRICS_SERVICE } from './metrics-audit-sink.js';
import { entryLogger, serviceLogger, type LogEntry } from '../shared/service-logger.js';
import { PUT_EVENTS_ENTRY_LIMIT, putEventsEntrySize } from '../shared/event-entry-size.js';

const logger = serviceLogger('tessera-gateway');

/** `source` of the gateway's own events on the platform bus (beside `tessera.lifecycle` and `tessera.statements`). */
export const GATEWAY_EVENT_SOURCE = 'tessera.gateway';

/** `detail-type` of the event put for each settled request of a tenant that opted in (`requestEvents`). */
export const REQUEST_COMPLETED_EVENT = 'Gateway Request Completed';

/**
 * PutEvents' limits (Amazon EventBridge API Reference, PutEvents: `Entries`, "Array Members: Minimum number of 1 item.
 * Maximum number of 10 items"; EventBridge quotas: "the total entry size of a PutEvents request must be less than 256 KB",
 * each entry sized as "Calculating Amazon EventBridge PutEvents event entry size" counts it: putEventsEntrySize).
 */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = PUT_EVENTS_ENTRY_LIMIT;

/** One PutEvents entry (PutEventsRequestEntry without `EventBusName`, which the publisher adds). */
export interface RequestEventEntry {
  Source: string;
  DetailType: string;
  Detail: string;
}

/**
 * The `detail` of a `Gateway Request Completed` event: the record as the tenant's own lookup answers it
 * (audit-records.ts requestRecordView, `object: 'tenant.request'`), so the same rule decides what leaves the gateway:
 * never `prompt` (the text `auditPromptText` keeps), nor `promptSha256`, nor any answer text (never in a record).
 */
export const requestEventDetail = (record: AuditRecord): RequestRecordView => requestRecordView(record);

/** The PutEvents entry of one record. */
export const requestEventEntry = (record: AuditRecord): RequestEventEntry =>
  ({ Source: GATEWAY_EVENT_SOURCE, DetailType: REQUEST_COMPLETED_EVENT, Detail: JSON.stringify(requestEventDetail(record)) });

/** An entry's size as EventBridge counts it (lambdas/shared/event-entry-size.ts, which the lifecycle's events use too). */
export { putEventsEntrySize };

/**
 * Entries cut into PutEvents calls, in order: at most 10 entries (PUT_EVENTS_MAX_ENTRIES) and less than 256 KB
 * (PUT_EVENTS_MAX_BYTES) per call. 25 entries are 3 calls (10, 10, 5).
 * @returns the calls, and the entries that fit in none (one entry of 256 KB or more: PutEvents would refuse the call)
 */
export function putEventsBatches(entries: readonly RequestEventEntry[]): { batches: RequestEventEntry[][]; tooLarge: RequestEventEntry[] } {
  const batches: RequestEventEntry[][] = [];
  const tooLarge: RequestEventEntry[] = [];
  let batch: RequestEventEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = putEventsEntrySize(entry);
    if (size >= PUT_EVENTS_MAX_BYTES) {
      tooLarge.push(entry);
      continue;
    }
    if (batch.length === PUT_EVENTS_MAX_ENTRIES || bytes + size >= PUT_EVENTS_MAX_BYTES) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length) batches.push(batch);
  return { batches, tooLarge };
}

/**
 * Sends one PutEvents call's entries (at most 10, under 256 KB) to the bus.
 * @returns how many entries the bus refused (PutEvents' `FailedEntryCount`) and the first refusal's `ErrorCode`
 * @throws when the call itself fails (AccessDenied, a bus that does not exist, the network)
 */
export type PutRequestEvents = (entries: RequestEventEntry[]) => Promise<{ failed: number; errorCode?: string }>;

/** The metric line of events not delivered (metrics-audit-sink.ts's namespace, `[Service]`): `RequestEventFailures`. */
export function requestEventFailuresMetric(count: number, at = Date.now()): Record<string, unknown> {
  return {
    _aws: { Timestamp: at, CloudWatchMetrics: [{ Namespace: GATEWAY_METRICS_NAMESPACE, Dimensions: [['Service']], Metrics: [{ Name: GATEWAY_METRICS.requestEventFailures, Unit: 'Count' }] }] },
    Service: GATEWAY_METRICS_SERVICE,
    [GATEWAY_METRICS.requestEventFailures]: count,
  };
}

export interface RequestEventsOptions {
  /** The bus's PutEvents (the router: lambdaPutRequestEvents; `tessera serve`: its events file). */
  put: PutRequestEvents;
  /**
   * How long records are gathered before their calls are sent, ms. 0 (the router Lambda): the records written in the same
   * turn of the event loop (a batch chunk's requests), with no wait added to a request. @default 0
   */
  flushMs?: number;
  /** Where a failure is told (a JSON line). @default the gateway's Powertools logger (shared/service-logger.ts) */
  log?: (entry: LogEntry) => void;
  /** Where the `RequestEventFailures` metric line goes. @default process.stdout (an EMF line), nowhere with POWERTOOLS_METRICS_DISABLED */
  print?: (line: string) => void;
}

/**
 * `Gateway Request Completed` events of settled requests, batched into PutEvents calls (putEventsBatches). `add` never
 * rejects: a call that fails, an entry the bus refuses or one too large is logged (`request events not delivered`) and
 * counted (`RequestEventFailures`, metrics-audit-sink.ts's namespace), and the request is answered as if nothing happened.
 * Nothing is retried here beyond the SDK's own retries of a failed call: an event is telemetry, the audit record (S3) is the record.
 */
export class RequestEvents {
  private queued: Array<{ entry: RequestEventEntry; requestId: string }> = [];
  private sending: Promise<void> | undefined;
  private readonly pending = new Set<Promise<void>>();
  private readonly flushMs: number;
  private readonly log: (entry: LogEntry) => void;
  private readonly print: (line: string) => void;

  constructor(private readonly options: RequestEventsOptions) {
    this.flushMs = options.flushMs ?? 0;
    this.log = options.log ?? entryLogger(logger);
    this.print = options.print ?? (/^(true|1)$/i.test(process.env.POWERTOOLS_METRICS_DISABLED ?? '') ? () => undefined : (line) => void process.stdout.write(line));
  }

  /**
   * Queues the event of `record` (a settled request); resolves once the call that carries it is answered (or failed).
   * Never rejects.
   */
  add(record: AuditRecord): Promise<void> {
    this.queued.push({ entry: requestEventEntry(record), requestId: record.requestId });
    if (!this.sending) {
      const wait = this.flushMs > 0 ? new Promise<void>((r) => setTimeout(r, this.flushMs)) : new Promise<void>((r) => setImmediate(r));
      const sending = wait.then(() => this.send());
      this.sending = sending;
      this.pending.add(sending);
      void sending.finally(() => this.pending.delete(sending));
    }
    return this.sending;
  }

  /** Resolves once every event added so far is sent (or its failure logged). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private async send(): Promise<void> {
    const queued = this.queued;
    this.queued = [];
    this.sending = undefined;
    const { batches, tooLarge } = putEventsBatches(queued.map((q) => q.entry));
    let failed = 0;
    if (tooLarge.length) {
      failed += tooLarge.length;
      this.log({ level: 'ERROR', message: 'request events not delivered', reason: `an entry of ${PUT_EVENTS_MAX_BYTES} bytes or more (PutEvents' limit)`, count: tooLarge.length });
    }
    await Promise.all(batches.map(async (batch) => {
      try {
        const out = await this.options.put(batch);
        if (out.failed) {
          failed += out.failed;
          this.log({ level: 'ERROR', message: 'request events not delivered', reason: `the bus refused ${out.failed} of ${batch.length} entries: ${out.errorCode ?? 'no ErrorCode'}`, count: out.failed });
        }
      } catch (e) {
        failed += batch.length;
        this.log({ level: 'ERROR', message: 'request events not delivered', reason: `PutEvents failed: ${(e as Error).name}: ${String((e as Error).message).split('\n')[0]}`, count: batch.length });
      }
    }));
    if (failed) {
      try {
        this.print(`${JSON.stringify(requestEventFailuresMetric(failed))}\n`);
      } catch { /* a metric line is never worth more than the log line above */ }
    }
  }
}

/**
 * Whether a request's event is put: the tenant's `gateway.requestEvents` when it set one, else the platform's
 * `gateway.requestEvents` (every tenant's requests). @default false (neither set)
 */
export const requestEventsWanted = (tenant: { requestEvents?: boolean } | undefined, platform: boolean | undefined): boolean =>
  tenant?.requestEvents ?? platform ?? false;
