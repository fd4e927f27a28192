import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { platformClient } from '../shared/aws-clients.js';
import { lifecycleHandler } from '../shared/handler.js';
import { causeMessage, clipReason } from './catch-reason.js';

/** What the Distributed Map's ResultWriter reports (`$.results`): where its manifest is. */
export interface MapResults {
  MapRunArn?: string;
  ResultWriterDetails?: { Bucket: string; Key: string };
}

/** One child execution in a ResultWriter result file (Step Functions Developer Guide, "ResultWriter": result file contents). */
interface ChildResult { Status?: string; Input?: string; Output?: string; Error?: string; Cause?: string }

/** Tenants listed per outcome in the upgrade's output (the counts are always complete; the result files have every child). */
export const MAX_LISTED = 200;

export interface UpgradeSummary {
  upgraded: number;
  refused: number;
  /** Tenants no longer as the upgrade listed them (another tier or version, not ACTIVE: begin-change.ts): left as they are; not failures of the map. */
  skipped: number;
  failed: number;
  /** Tenants whose change set was refused (change-set-guard.ts): they stay on their version; not failures of the map. */
  refusals: Array<{ tenantId: string; reason?: string; resources?: unknown }>;
  skips: Array<{ tenantId: string; reason?: string }>;
  failures: Array<{ tenantId: string; error?: string; cause?: string }>;
  manifest?: string;
}

const parseJson = (s: string | undefined): any => {
  try { return s ? JSON.parse(s) : undefined; } catch { return undefined; }
};

/** Sorts a result file's children into upgraded, refused (a SUCCEEDED child whose output says `refused`), skipped (one whose output says `skipped`) and failed. */
export function summarize(children: readonly ChildResult[], into: UpgradeSummary): UpgradeSummary {
  for (const c of children) {
    const input = parseJson(c.Input);
    const output = parseJson(c.Output);
    const tenantId = input?.request?.tenantId ?? output?.tenantId ?? 'unknown';
    if (c.Status === 'SUCCEEDED' && output?.refused) {
      into.refused++;
      if (into.refusals.length < MAX_LISTED) into.refusals.push({ tenantId, reason: output.refusal?.reason, resources: output.refusal?.refusedChanges });
    } else if (c.Status === 'SUCCEEDED' && output?.skipped) {
      into.skipped++;
      if (into.skips.length < MAX_LISTED) into.skips.push({ tenantId, reason: output.reason });
    } else if (c.Status === 'SUCCEEDED') {
      into.upgraded++;
    } else {
      into.failed++;
      if (into.failures.length < MAX_LISTED) into.failures.push({ tenantId, error: c.Error, cause: c.Cause === undefined ? undefined : clipReason(causeMessage(c.Cause), 500) });
    }
  }
  return into;
}

/**
 * The rolling upgrade's result: reads the Distributed Map's ResultWriter manifest and its result
 * files (SUCCEEDED and FAILED) from the lifecycle work bucket, and answers how many tenants were
 * upgraded, refused (their change set would have destroyed a stateful resource; they stay on
 * their version and do not count against the failure tolerance), skipped (moved to another tier
 * or version, suspended or offboarded since the upgrade listed them; not counted either) and
 * failed, naming the refused, skipped and failed tenants.
 */
export const handler = lifecycleHandler('Summarize upgrade', async (input: { results: MapResults }): Promise<UpgradeSummary> => {
  const summary: UpgradeSummary = { upgraded: 0, refused: 0, skipped: 0, failed: 0, refusals: [], skips: [], failures: [] };
  const details = input.results?.ResultWriterDetails;
  if (!details) return summary;
  const s3 = platformClient(S3Client);
  const read = async (key: string) => JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: details.Bucket, Key: key }))).Body!.transformToString());
  const manifest = await read(details.Key) as { ResultFiles?: Record<string, Array<{ Key: string }>> };
  for (const group of ['SUCCEEDED', 'FAILED'] as const) {
    for (const file of manifest.ResultFiles?.[group] ?? []) summarize(await read(file.Key) as ChildResult[], summary);
  }
  return { ...summary, manifest: `s3://${details.Bucket}/${details.Key}` };
}, { trackStep: false });
