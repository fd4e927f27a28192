import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import type { AwsCredentialIdentity } from '@smithy/types';
import { quotaNeeds, quotaRegion, type CfnTemplate, type QuotaRule } from '../../lib/quotas.js';
import type { QuotaRequest } from '../../lib/tenant-record.js';
import { clientWith, platformClient } from '../shared/aws-clients.js';
import { ENV, requireEnv } from '../shared/environment.js';
import { RETRYABLE_ERRORS } from '../shared/errors.js';
export { QuotaExceededError } from '../shared/errors.js';
import { logger } from '../shared/handler.js';
import { templateKey } from './blueprints.js';
import { USAGE, usageClients, type UsageClients } from './quota-usage.js';
import { appliedQuota, quotaListings, requestIncrease, type AppliedQuota } from './service-quotas.js';

/** One quota measured against what one more tenant of the tier needs. */
export interface QuotaFinding {
  rule: Pick<QuotaRule, 'key' | 'serviceCode' | 'quotaCode' | 'name' | 'scope' | 'adjustable' | 'defaultValue'>;
  /** Units one tenant stack uses (lib/quotas.ts `perTenant` of the tier's template). */
  need: number;
  /** Units in use now (per Availability Zone: in the fullest one; per VPC: 0, the tenant's VPC is new). */
  usage: number;
  applied: AppliedQuota;
}

/** True when one more tenant does not fit: usage + need above the applied value. */
export const exceeded = (f: QuotaFinding) => f.usage + f.need > f.applied.value;

/** The value to ask Service Quotas for: exactly what makes this tenant fit (usage + need), never less than applied. */
export const desiredValue = (f: QuotaFinding) => Math.max(f.usage + f.need, f.applied.value);

/**
 * `account 333333333333 us-east-1 uses 5 of 5 "VPCs per Region" (vpc L-F678F1CE); tier starter needs 1 more`
 * — the quota by name and code, the account and region, usage, applied value, the tier's need.
 */
export function describeShortfall(f: QuotaFinding, where: { accountId: string; region: string; tier: string }): string {
  const scope = f.rule.scope === 'availability-zone' ? ' in its fullest Availability Zone' : f.rule.scope === 'vpc' ? ' in the tenant\'s new VPC' : '';
  const code = f.applied.quotaCode ?? f.rule.quotaCode;
  return `account ${where.accountId} ${where.region} uses ${f.usage} of ${f.applied.value} "${f.rule.name}"${scope} (${f.rule.serviceCode}${code ? ` ${code}` : ''}); tier ${where.tier} needs ${f.need} more`;
}

/** What became of the increase for one shortfall, as the error message says it. */
export function describeRequest(r: { request?: QuotaRequest & { alreadyOpen: boolean }; why?: string }): string {
  if (r.request) {
    return r.request.alreadyOpen
      ? `an increase to ${r.request.desired} is already requested (${r.request.requestId ?? 'no id'}, ${r.request.status})`
      : `requested an increase to ${r.request.desired} (${r.request.requestId ?? 'no id'}, ${r.request.status})`;
  }
  return `no increase requested: ${r.why}`;
}

const retryable = (e: unknown) => (RETRYABLE_ERRORS as readonly string[]).includes((e as Error).name);

/** The tier's tenant template from the blueprint catalog: the same key *Deploy blueprint* deploys. */
export async function tierTemplate(tier: string, version = requireEnv(ENV.blueprintVersion)): Promise<CfnTemplate> {
  const key = templateKey(tier, 'tenant', version);
  const out = await platformClient(S3Client).send(new GetObjectCommand({ Bucket: requireEnv(ENV.blueprintBucket), Key: key }));
  const body = await out.Body?.transformToString();
  if (!body) throw new Error(`blueprint catalog object ${key} is empty`);
  return JSON.parse(body) as CfnTemplate;
}

export interface QuotaCheckResult {
  findings: QuotaFinding[];
  /** Rules the tier needs that could not be measured or read (no usage function, or an API refused); logged, not fatal. */
  unchecked: Array<{ key: string; why: string }>;
  shortfalls: Array<{ finding: QuotaFinding; request?: QuotaRequest & { alreadyOpen: boolean }; why?: string }>;
}

/**
 * Measures, for every quota the template uses, the account's usage and applied value, and files
 * an increase (usage + need) for each that one more tenant would exceed, unless one is open.
 * Throttling is rethrown (the state machine retries the step); any other failure to measure a
 * quota leaves that quota unchecked rather than blocking the onboarding on the checker itself.
 * Each quota is read and raised in lib/quotas.ts `quotaRegion`: `target.region`, or us-east-1 for a
 * global quota (IAM), which Service Quotas serves only there, when `target.allowedRegions` (the
 * config's `allowedRegions`, the region guardrail's) has it; its request records that Region.
 * `clients.sq`: the Service Quotas client of a Region. @default - the target credentials' client in that Region
 */
export async function checkQuotas(
  template: CfnTemplate,
  target: { accountId: string; region: string; allowedRegions: readonly string[]; credentials: AwsCredentialIdentity },
  clients: { sq?: (region: string) => ServiceQuotasClient; usage?: UsageClients } = {},
): Promise<QuotaCheckResult> {
  const sqIn = (serviceCode: string) => {
    const region = quotaRegion(serviceCode, target.region, target.allowedRegions);
    return { region, sq: clients.sq?.(region) ?? clientWith(ServiceQuotasClient, target.credentials, { region }) };
  };
  const usage = clients.usage ?? usageClients(target.credentials);
  const result: QuotaCheckResult = { findings: [], unchecked: [], shortfalls: [] };
  const listings = quotaListings();
  for (const { rule, need } of quotaNeeds(template)) {
    if (need <= 0) continue;
    const measure = USAGE[rule.key];
    if (rule.scope !== 'vpc' && !measure) {
      result.unchecked.push({ key: rule.key, why: 'no usage function' });
      continue;
    }
    try {
      const used = rule.scope === 'vpc' ? 0 : await measure!(usage);
      const applied = await appliedQuota(sqIn(rule.serviceCode).sq, rule, rule.defaultValue, listings);
      result.findings.push({ rule, need, usage: used, applied });
    } catch (e) {
      if (retryable(e)) throw e;
      logger.warn('quota not checked', { quota: rule.key, error: e as Error });
      result.unchecked.push({ key: rule.key, why: `${(e as Error).name}: ${(e as Error).message}` });
    }
  }
  for (const finding of result.findings.filter(exceeded)) {
    const code = finding.applied.quotaCode;
    if (!code) {
      result.shortfalls.push({ finding, why: 'Service Quotas has no code for this quota; ask AWS Support' });
      continue;
    }
    if (!finding.rule.adjustable) {
      result.shortfalls.push({ finding, why: 'the quota is not adjustable' });
      continue;
    }
    try {
      const { sq, region } = sqIn(finding.rule.serviceCode);
      const request = await requestIncrease(sq, {
        serviceCode: finding.rule.serviceCode, quotaCode: code, name: finding.rule.name, applied: finding.applied.value, desired: desiredValue(finding), region,
      });
      result.shortfalls.push({ finding, request });
    } catch (e) {
      logger.warn('quota increase not requested', { quota: finding.rule.key, error: e as Error });
      result.shortfalls.push({ finding, why: `${(e as Error).name}: ${(e as Error).message}` });
    }
  }
  return result;
}

/** Merges new requests into the registry's list: one entry per quota code and region, the newest kept. */
export function mergeQuotaRequests(existing: readonly QuotaRequest[] | undefined, added: readonly QuotaRequest[]): QuotaRequest[] {
  const key = (r: QuotaRequest) => `${r.region}#${r.serviceCode}#${r.quotaCode}`;
  const merged = new Map((existing ?? []).map((r) => [key(r), r]));
  for (const r of added) merged.set(key(r), r);
  return [...merged.values()];
}
