import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackName } from '../../lambdas/lifecycle/blueprints.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { sageMakerNamePattern, sageMakerNamePrefix, trainingJobName } from '../../lib/fine-tuning.js';
import { compileSchemaPattern } from '../../lib/preflight/names.js';
import { ProviderSchemas, type PropertySchema, type ProviderSchema } from '../../lib/preflight/provider-schemas.js';
import {
  ACCOUNT_BASELINE_STACK_NAME, databaseInstanceIdentifier, dedicatedClusterName, RESERVED_TENANT_ID_PREFIXES, RESERVED_TENANT_ID_WORDS,
  RESERVED_TENANT_IDS, TENANT_ID_PATTERN, TENANT_ROLE_PURPOSES, tenantIdReservation, tenantLogGroupPrefix, tenantNamespace, tenantRoleName,
} from '../../lib/tenant-naming.js';
import { breaks, namesInArn, namesInManifest, type NameRuleId } from '../support/aws-name-rules.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { configWith } from '../support/config-with.js';

// Every name built from a tenant id, instantiated: each property of each blueprint whose value is
// built from the TenantId parameter is rendered with boundary ids (worst-case account and Region)
// and checked against its provider schema (cfn-lint's) and AWS's documented rule for it
// (test/support/aws-name-rules.ts); so are the names the Lambdas build. Then the reserved ids:
// derived from the names of the synthesized platform, organization and account baseline stacks.

type Json = unknown;
type CfnTemplate = { Parameters?: Record<string, { Default?: unknown; AllowedPattern?: string }>; Resources: Record<string, { Type: string; Properties?: Json }> };

const ID = new RegExp(TENANT_ID_PATTERN);
const JOB_HEX = sageMakerNamePattern('x').length - sageMakerNamePrefix('x').length;
const ACCOUNT = '123456789012'; // every account id has 12 digits

/** Lengths TENANT_ID_PATTERN admits, found by asking it (it stays the single source of truth). */
const lengths = Array.from({ length: 128 }, (_, i) => i + 1).filter((n) => ID.test(n === 1 ? 'a' : `a${'b'.repeat(n - 2)}z`));
const MIN = Math.min(...lengths);
const MAX = Math.max(...lengths);

/** An id of `n` characters: `a`, then `fill` repeated, then `z`. */
const idOf = (n: number, fill = 'b') => `a${fill.repeat(n).slice(0, n - 2)}z`;
/** `a-b-b-…` of length n, single hyphens, ending alphanumeric. */
function hyphenated(n: number): string {
  let s = 'a';
  while (s.length < n - 1) s += s.endsWith('-') ? 'b' : '-';
  return `${s}z`;
}

/** The boundary ids: shortest and longest, letters, digits, hyphens at the start, the end and everywhere. */
const BOUNDARY_IDS = [
  idOf(MIN), `a-${'b'.repeat(Math.max(0, MIN - 3))}`.slice(0, MIN - 1) + 'z', idOf(MAX), idOf(MAX, '0'), hyphenated(MAX),
  `a-${'b'.repeat(MAX - 3)}z`, `${'a'.repeat(MAX - 2)}-z`, `a1-${'2'.repeat(MAX - 6)}-9z`,
];

// ---------------------------------------------------------------------------------------------
// Rendering: the TenantId expressions are Fn::Join / Fn::Sub of literals, the tenant id, pseudo
// parameters and other parameters; anything else fails loudly (extend it when a name needs it).
// ---------------------------------------------------------------------------------------------

interface Env { readonly values: Record<string, string> }

function render(v: Json, env: Env): Json {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => render(x, env));
  const o = v as Record<string, Json>;
  const keys = Object.keys(o);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
    const [k] = keys;
    const arg = o[k];
    if (k === 'Ref') {
      const value = env.values[String(arg)];
      if (value === undefined) throw new Error(`cannot render Ref ${String(arg)}: give it a worst-case value`);
      return value;
    }
    if (k === 'Fn::Join') {
      const [sep, list] = arg as [string, Json];
      return (render(list, env) as Json[]).map(String).join(sep);
    }
    if (k === 'Fn::Sub') {
      const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, Json>]) : [String(arg), {}];
      return text.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => String(vars[name] !== undefined ? render(vars[name], env) : render({ Ref: name }, env)));
    }
    throw new Error(`cannot render ${k} in ${JSON.stringify(v).slice(0, 200)}`);
  }
  return Object.fromEntries(Object.entries(o).map(([key, x]) => [key, render(x, env)]));
}

function refsTenantId(v: Json): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(refsTenantId);
  const o = v as Record<string, Json>;
  if (o.Ref === 'TenantId') return true;
  if ('Fn::Sub' in o) {
    const s = o['Fn::Sub'];
    if (/\$\{TenantId\}/.test(Array.isArray(s) ? String(s[0]) : String(s))) return true;
  }
  return Object.values(o).some(refsTenantId);
}

/** A property value built from the tenant id: the outermost intrinsic that refers to it. */
interface Derived {
  readonly blueprint: string;
  readonly logicalId: string;
  readonly type: string;
  /** Property path; `[]` for list items. */
  readonly path: string[];
  readonly expr: Json;
}

function derivedProperties(blueprint: string, template: CfnTemplate): Derived[] {
  const out: Derived[] = [];
  const walk = (logicalId: string, type: string, path: string[], v: Json) => {
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, Json>;
    const keys = Object.keys(o);
    if (!Array.isArray(v) && keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      if (refsTenantId(v)) out.push({ blueprint, logicalId, type, path, expr: v });
      return;
    }
    if (Array.isArray(v)) v.forEach((x) => walk(logicalId, type, [...path, '[]'], x));
    else for (const [k, x] of Object.entries(o)) walk(logicalId, type, [...path, k], x);
  };
  for (const [logicalId, r] of Object.entries(template.Resources)) walk(logicalId, r.Type, [], r.Properties ?? {});
  return out;
}

// ---------------------------------------------------------------------------------------------
// What each property is: the rules beyond its provider schema, and (for the reserved-id check)
// the kind of name it is. A property built from the id that no entry covers fails the test.
// ---------------------------------------------------------------------------------------------

type Check = NameRuleId | 'arn' | 'manifest' | 'sagemaker-name-prefix';
interface PropertyClass { readonly match: RegExp; readonly checks: Check[]; readonly kind?: string }

const TAG_KEYS = 'tessera:tenant-id|kubernetes-namespace';
const PROPERTY_CLASSES: PropertyClass[] = [
  { match: /^\S+ (Tags\[\]\.Value|(Tags|BackupVaultTags|BackupPlanTags)\.[^.]+)$/, checks: ['tag-value'] },
  { match: /^AWS::IAM::Role RoleName$/, checks: ['iam-role-name'], kind: 'iam:role' },
  { match: /^AWS::RDS::DBInstance DBInstanceIdentifier$/, checks: ['rds-db-instance-identifier'], kind: 'rds:dbinstance' },
  { match: /^AWS::EKS::Cluster Name$/, checks: ['eks-cluster-name'], kind: 'eks:cluster' },
  { match: /^AWS::Events::Rule Name$/, checks: ['events-rule-name'], kind: 'events:rule' },
  { match: /^AWS::CloudWatch::Alarm AlarmName$/, checks: ['cloudwatch-alarm-name'], kind: 'cloudwatch:alarm' },
  { match: /^AWS::SQS::Queue QueueName$/, checks: ['sqs-queue-name'], kind: 'sqs:queue' },
  { match: /^AWS::Backup::BackupPlan BackupPlan\.BackupPlanRule\[\]\.RecoveryPointTags\.[^.]+$/, checks: ['tag-value'] },
  { match: /^AWS::ElastiCache::User (UserId|UserName)$/, checks: ['elasticache-user-id'], kind: 'elasticache:user' },
  { match: /^AWS::ElastiCache::UserGroup UserIds\[\]$/, checks: ['elasticache-user-id'] },
  { match: /^AWS::ElastiCache::UserGroup UserGroupId$/, checks: ['elasticache-user-group-id'], kind: 'elasticache:usergroup' },
  { match: /^AWS::Backup::BackupVault BackupVaultName$/, checks: ['backup-vault-name'], kind: 'backup:backupvault' },
  { match: /^AWS::Backup::BackupPlan BackupPlan\.BackupPlanName$/, checks: ['backup-plan-name'], kind: 'backup:backupplan' },
  { match: /^AWS::KMS::Alias AliasName$/, checks: ['kms-alias-name'], kind: 'kms:alias' },
  { match: /^AWS::S3Vectors::VectorBucket VectorBucketName$/, checks: ['s3vectors-bucket-name'], kind: 's3vectors:bucket' },
  { match: /^AWS::Logs::LogGroup LogGroupName$/, checks: ['log-group-name'], kind: 'logs:loggroup' },
  { match: /^AWS::EKS::PodIdentityAssociation Namespace$/, checks: ['k8s-namespace'], kind: 'k8s:namespace' },
  { match: /^AWS::EKS::PodIdentityAssociation TargetRoleArn$/, checks: ['arn'] },
  // The namespace an access entry's policy is scoped to (the tenant's kubectl role: constructs/tenant-namespace.ts).
  { match: /^AWS::EKS::AccessEntry AccessPolicies\[\]\.AccessScope\.Namespaces\[\]$/, checks: ['k8s-namespace'], kind: 'k8s:namespace' },
  // Free text: the schema's limits (IAM role description 1000, KMS key description 8192) are the rule.
  { match: /^AWS::(IAM::Role|IAM::ManagedPolicy|KMS::Key) Description$/, checks: [] },
  // PutMetricAlarm: AlarmDescription 0-1024 (the schema's maxLength, checked for every derived value).
  { match: /^AWS::CloudWatch::Alarm AlarmDescription$/, checks: [] },
  { match: /^\S+ (PolicyDocument|AssumeRolePolicyDocument|KeyPolicy)\.Statement\[\]\.(Not)?Resource(\[\])?$/, checks: ['arn'] },
  { match: new RegExp(`^\\S+ (PolicyDocument|AssumeRolePolicyDocument)\\.Statement\\[\\]\\.Condition\\.\\w+\\.aws:(Request|Resource|Principal)Tag/(${TAG_KEYS})(\\[\\])?$`), checks: ['tag-value'] },
  { match: /^\S+ \S*Statement\[\]\.Condition\.\w+\.sts:SourceIdentity(\[\])?$/, checks: ['sts-source-identity'] },
  { match: /^\S+ \S*Statement\[\]\.Condition\.\w+\.(aws:PrincipalArn|aws:SourceArn|kms:EncryptionContext:aws:logs:arn|sagemaker:ModelArn)(\[\])?$/, checks: ['arn'] },
  { match: /^AWS::Events::Rule EventPattern\.detail\.TrainingJobName\[\]\.prefix$/, checks: ['sagemaker-name-prefix'] },
  { match: /^AWS::Events::Rule EventPattern\.detail\.EndpointName\[\]\.prefix$/, checks: ['sagemaker-name-prefix'] },
  { match: /^Custom::AWSCDK-EKS-KubernetesResource Manifest$/, checks: ['manifest'] },
  // A dedicated cluster's manifests (constructs/cluster-manifests.ts): fixed objects in kube-system, the id only in the
  // autoscaler's auto-discovery flag as the cluster's name (checked as the cluster's Name and ARNs); so no tenant's names.
  { match: /^Custom::ClusterManifests Manifests$/, checks: [] },
  // The autoscaler's scaling condition on the EKS tag eks:cluster-name, whose value is the cluster's name
  // (lib/cluster-autoscaler.ts clusterAutoscalerStatements).
  { match: /^\S+ PolicyDocument\.Statement\[\]\.Condition\.\w+\.aws:ResourceTag\/eks:cluster-name$/, checks: ['eks-cluster-name'] },
];
// A session tag carrying the namespace is also a namespace name.
const NAMESPACE_TAG = /Tag\/kubernetes-namespace(\[\])?$/;

const keyText = (d: Pick<Derived, 'type' | 'path'>) => `${d.type} ${d.path.join('.').replace(/\.\[\]/g, '[]')}`;
// A Derived is made once (beforeAll) and never changed: its key and class are computed once, not
// once per probe id (the reserved-id check renders every blueprint's names for each of over 200 ids).
const keys = new WeakMap<Pick<Derived, 'type' | 'path'>, string>();
const classes = new WeakMap<Derived, PropertyClass | undefined>();
const key = (d: Pick<Derived, 'type' | 'path'>) => keys.get(d) ?? keys.set(d, keyText(d)).get(d)!;
const classOf = (d: Derived) => {
  if (!classes.has(d)) classes.set(d, PROPERTY_CLASSES.find((c) => c.match.test(key(d))));
  return classes.get(d);
};

let schemas: ProviderSchemas;

/** The provider-schema node of a property path (through $ref, items and patternProperties), if the schema describes it. */
function schemaNode(type: string, path: string[]): PropertySchema | undefined {
  const schema = schemas.get(type) as (ProviderSchema & { definitions?: Record<string, PropertySchema> }) | undefined;
  if (!schema) return undefined;
  const follow = (p: PropertySchema | undefined) => {
    for (let i = 0; p?.$ref && i < 5; i++) p = schema.definitions?.[p.$ref.replace('#/definitions/', '')];
    return p;
  };
  let node = follow(schema.properties[path[0]]);
  for (const seg of path.slice(1)) {
    if (!node) return undefined;
    if (seg === '[]') node = follow(node.items);
    else if (node.properties?.[seg]) node = follow(node.properties[seg]);
    else {
      const pp = (node as { patternProperties?: Record<string, PropertySchema> }).patternProperties;
      const hit = pp && Object.entries(pp).find(([re]) => new RegExp(re).test(seg));
      node = hit ? follow(hit[1]) : undefined;
    }
  }
  return node;
}

function schemaProblems(node: PropertySchema | undefined, value: string): string[] {
  if (!node) return [];
  const out: string[] = [];
  if (node.maxLength !== undefined && value.length > node.maxLength) out.push(`schema: length ${value.length} > maxLength ${node.maxLength}`);
  if (node.minLength !== undefined && value.length < node.minLength) out.push(`schema: length ${value.length} < minLength ${node.minLength}`);
  if (node.pattern) {
    const compiled = compileSchemaPattern(node.pattern);
    if ('error' in compiled) out.push(`schema: pattern ${node.pattern} cannot be compiled`);
    else if (!compiled.regex.test(value)) out.push(`schema: does not match ${node.pattern}`);
  }
  return out;
}

function problemsOf(d: Derived, value: Json): string[] {
  const cls = classOf(d);
  if (!cls) return [`no rule says what ${key(d)} is: add it to PROPERTY_CLASSES`];
  if (value === undefined) return [];
  if (typeof value !== 'string') return [`rendered to ${JSON.stringify(value)}, not a string`];
  const out = schemaProblems(schemaNode(d.type, d.path), value);
  const checks: Check[] = NAMESPACE_TAG.test(key(d)) ? [...cls.checks, 'k8s-namespace'] : cls.checks;
  for (const check of checks) {
    if (check === 'arn') {
      const { names, unknown } = namesInArn(value);
      if (unknown) out.push(unknown);
      for (const [rule, name] of names) out.push(...breaks(rule, name).map((p) => `${name}: ${p}`));
    } else if (check === 'manifest') {
      for (const [rule, name] of namesInManifest(value)) out.push(...breaks(rule, name).map((p) => `${name}: ${p}`));
    } else if (check === 'sagemaker-name-prefix') {
      const name = `${value}${'a'.repeat(JOB_HEX)}`;
      out.push(...breaks('sagemaker-name', name).map((p) => `${name}: ${p}`));
    } else out.push(...breaks(check, value));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Names the Lambdas and the CLI build from the id (not in any template). Each cites its source.
// ---------------------------------------------------------------------------------------------

interface RuntimeName { readonly what: string; readonly rule: NameRuleId; readonly kind: string; readonly name: (id: string) => string }

let scaleUpExecutionName: (tenantId: string, now?: Date) => string;
const SAMPLE_JOB_ID = `ftjob-${'0'.repeat(JOB_HEX)}`;

const RUNTIME_NAMES: RuntimeName[] = [
  { what: 'tenant stack (lambdas/lifecycle/blueprints.ts stackName)', rule: 'cfn-stack-name', kind: 'cloudformation:stack', name: (id) => stackName(id, 'tenant') },
  { what: 'namespace stack (lambdas/lifecycle/blueprints.ts stackName)', rule: 'cfn-stack-name', kind: 'cloudformation:stack', name: (id) => stackName(id, 'namespace') },
  { what: 'Kubernetes namespace (lib/tenant-naming.ts tenantNamespace)', rule: 'k8s-namespace', kind: 'k8s:namespace', name: tenantNamespace },
  ...TENANT_ROLE_PURPOSES.map((p): RuntimeName => ({ what: `role ${p} (lib/tenant-naming.ts tenantRoleName)`, rule: 'iam-role-name', kind: 'iam:role', name: (id) => tenantRoleName(id, p) })),
  { what: 'DB instance (lib/tenant-naming.ts databaseInstanceIdentifier)', rule: 'rds-db-instance-identifier', kind: 'rds:dbinstance', name: databaseInstanceIdentifier },
  { what: 'dedicated cluster (lib/tenant-naming.ts dedicatedClusterName)', rule: 'eks-cluster-name', kind: 'eks:cluster', name: dedicatedClusterName },
  { what: 'log group under the tenant prefix (lib/tenant-naming.ts tenantLogGroupPrefix)', rule: 'log-group-name', kind: 'logs:loggroup', name: (id) => `${tenantLogGroupPrefix(id)}/x` },
  ...['trainingjob', 'model', 'endpointconfig', 'endpoint'].map((k): RuntimeName => ({
    what: `SageMaker ${k} (lib/fine-tuning.ts trainingJobName)`, rule: 'sagemaker-name', kind: `sagemaker:${k}`, name: (id) => trainingJobName(id, SAMPLE_JOB_ID),
  })),
  { what: 'GPU quota change execution (lambdas/lifecycle/process-quota-requests.ts scaleUpExecutionName)', rule: 'sfn-execution-name', kind: 'states:execution', name: (id) => scaleUpExecutionName(id) },
  // Built inline by the handlers:
  { what: 'account name (lambdas/lifecycle/create-account.ts)', rule: 'organizations-account-name', kind: 'organizations:account', name: (id) => `tessera-${id}` },
  { what: 'longest provisioning session name (lambdas/shared/sessions.ts)', rule: 'sts-session-name', kind: 'sts:session', name: (id) => `tessera-${id}-offboarding-export` },
  { what: 'tenant role session name (lambdas/fine-tuning/lambda-deps.ts via tenant-role-clients.ts)', rule: 'sts-session-name', kind: 'sts:session', name: (id) => `tessera-${id}-fine-tuning` },
  { what: 'break-glass SourceIdentity (lambdas/shared/sessions.ts)', rule: 'sts-source-identity', kind: 'sts:sourceidentity', name: (id) => `tessera-offboarding-${id}` },
  { what: 'final DB snapshot (lambdas/lifecycle/snapshot-database.ts)', rule: 'rds-db-snapshot-identifier', kind: 'rds:dbsnapshot', name: (id) => `tessera-${id}-final-${'9'.repeat(13)}` },
  // s43: CloudFormation names the snapshot it keeps of a DeletionPolicy Snapshot instance <stack>-snapshot-<logical id>-<random>.
  { what: 'DB snapshot CloudFormation keeps of the tenant stack\'s instance (DeletionPolicy Snapshot)', rule: 'rds-db-snapshot-identifier', kind: 'rds:dbsnapshot', name: (id) => `${stackName(id, 'tenant')}-snapshot-databaseinstance-1a2b3c4d5e6f` },
  { what: 'tenant provider key secret (lambdas/inference/secrets.ts)', rule: 'secrets-manager-name', kind: 'secretsmanager:secret', name: (id) => `tessera/tenants/${id}/huggingface` },
];

// ---------------------------------------------------------------------------------------------

interface Blueprint { readonly name: string; readonly template: CfnTemplate; readonly derived: Derived[] }

let config: PlatformConfig;
let blueprints: Blueprint[];
let platformTemplates: Array<{ name: string; template: CfnTemplate }>;
let region: string;
let partition: string;

const json = (t: Template) => t.toJSON() as CfnTemplate;

beforeAll(async () => {
  ({ scaleUpExecutionName } = await import('../../lambdas/lifecycle/process-quota-requests.js'));
  schemas = new ProviderSchemas();
  config = configWith();
  const built = defaultAppTemplates(); // the templates of buildApp(config): config is the default
  blueprints = [
    ...Object.entries(built.blueprints).map(([tier, s]) => ({ name: `${tier}.template.json`, template: json(s) })),
    ...Object.entries(built.namespaceBlueprints).map(([tier, s]) => ({ name: `${tier}-namespace.template.json`, template: json(s) })),
  ].map((b) => ({ ...b, derived: derivedProperties(b.name, b.template) }));
  platformTemplates = [
    { name: 'platform', template: json(built.platformWithPolicies) }, // its Lambdas' grants (patterns) live in its FunctionPolicies nested stack
    { name: 'organization', template: json(built.organization) },
    { name: 'account baseline', template: json(built.accountBaseline) },
    // s43: the role every tenant account's lifecycle steps use (its grants' patterns: tessera-*-final-* for the offboarding's snapshots).
    { name: 'workload provisioning role', template: json(built.workloadProvisioning) },
  ];
  // Worst case: the longest Region the config allows (ARNs in policies carry it).
  region = [...config.allowedRegions, config.homeRegion].sort((a, b) => b.length - a.length)[0];
  partition = region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}, 180_000);

function envFor(template: CfnTemplate, tenantId: string): Env {
  const values: Record<string, string> = {};
  for (const [name, p] of Object.entries(template.Parameters ?? {})) {
    if (p.Default !== undefined) values[name] = String(p.Default);
    else if (p.AllowedPattern === '^\\d{12}$') values[name] = ACCOUNT;
  }
  Object.assign(values, {
    TenantId: tenantId, VpcCidr: '100.100.100.0/22', TenantVpcCidr: '100.100.100.0/22',
    'AWS::AccountId': ACCOUNT, 'AWS::Region': region, 'AWS::Partition': partition, 'AWS::URLSuffix': partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com',
  });
  return { values };
}

interface Violation { readonly where: string; readonly name: string; readonly value: string; readonly problem: string }

/** Every problem of every name built from `tenantId`, in every blueprint and at run time. */
function violations(tenantId: string): Violation[] {
  const out: Violation[] = [];
  for (const b of blueprints) {
    const env = envFor(b.template, tenantId);
    const placeholder = envFor(b.template, '<id>');
    for (const d of b.derived) {
      const value = render(d.expr, env);
      for (const problem of problemsOf(d, value)) {
        out.push({ where: `${b.name} ${d.logicalId} ${key(d)}`, name: `${key(d)} ${String(render(d.expr, placeholder)).slice(0, 80)}`, value: String(value).slice(0, 120), problem });
      }
    }
  }
  for (const r of RUNTIME_NAMES) {
    const value = r.name(tenantId);
    for (const problem of breaks(r.rule, value)) out.push({ where: r.what, name: `${r.what} ${r.name('<id>')}`, value, problem });
  }
  return out;
}

const show = (vs: Violation[]) => vs.map((v) => `${v.where} "${v.value}": ${v.problem}`);

describe('names built from a tenant id', () => {
  it(`admits ids of ${MIN}-${MAX} characters (asked of TENANT_ID_PATTERN) and the boundary ids are valid, unreserved ids`, () => {
    for (const id of BOUNDARY_IDS) {
      expect(id, id).toMatch(ID);
      expect(tenantIdReservation(id), id).toBeUndefined();
    }
    expect(BOUNDARY_IDS.map((id) => id.length)).toContain(MIN);
    expect(BOUNDARY_IDS.map((id) => id.length)).toContain(MAX);
  });

  it('finds the names in every blueprint of every tier and the namespace blueprints, and knows what each property is', () => {
    expect(blueprints.map((b) => b.name).sort()).toEqual(
      [...Object.keys(config.tiers).map((t) => `${t}.template.json`), ...Object.entries(config.tiers).filter(([, t]) => t.compute.mode === 'shared').map(([t]) => `${t}-namespace.template.json`)].sort());
    for (const b of blueprints) expect(b.derived.length, b.name).toBeGreaterThan(b.name.includes('namespace') ? 5 : 30);
    const all = blueprints.flatMap((b) => b.derived);
    // The names this test exists for are among them.
    const keys = new Set(all.map(key));
    for (const k of ['AWS::IAM::Role RoleName', 'AWS::RDS::DBInstance DBInstanceIdentifier', 'AWS::ElastiCache::User UserId', 'AWS::ElastiCache::UserGroup UserGroupId',
      'AWS::Backup::BackupVault BackupVaultName', 'AWS::Backup::BackupPlan BackupPlan.BackupPlanName', 'AWS::KMS::Alias AliasName', 'AWS::Logs::LogGroup LogGroupName',
      'AWS::EKS::Cluster Name', 'AWS::EKS::PodIdentityAssociation Namespace', 'Custom::AWSCDK-EKS-KubernetesResource Manifest']) expect(keys, k).toContain(k);
    expect([...new Set(all.filter((d) => !classOf(d)).map(key))]).toEqual([]);
  });

  it.each(BOUNDARY_IDS)('fit every AWS rule for tenant id %s', (id) => {
    expect(show(violations(id))).toEqual([]);
  });

  it('fail the same machinery for ids the pattern refuses (negative controls)', () => {
    // 40 characters: longer than the pattern allows; the names that can no longer fit say so.
    const long = idOf(40);
    expect(long).not.toMatch(ID);
    const longViolations = violations(long);
    const failing = new Set(longViolations.map((v) => v.name.split(' ').slice(0, 2).join(' ')));
    for (const k of ['AWS::ElastiCache::User UserId', 'AWS::ElastiCache::UserGroup UserIds[]', 'AWS::Backup::BackupVault BackupVaultName', 'AWS::Backup::BackupPlan BackupPlan.BackupPlanName', 'AWS::IAM::Role RoleName']) {
      expect(failing, k).toContain(k);
    }
    // Both sources bite: the schema (Backup vault pattern {2,50}) and the documented rules where the
    // schema is silent (ElastiCache user ids: no maxLength in the schema; Backup plan names: no limit at all).
    const text = show(longViolations).join('\n');
    expect(text).toMatch(/BackupVaultName .*schema: does not match/);
    expect(text).toMatch(/ElastiCache::User UserId .*elasticache-user-id: length 56 > 40/);
    expect(text).toMatch(/BackupPlanName .*backup-plan-name: length 57 > 50/);
    // What else the pattern prevents: a hyphen last, two hyphens in a row, upper case.
    for (const [bad, expected] of [
      ['abc-', /DBInstanceIdentifier.*schema: does not match[^]*DBInstanceIdentifier.*ends with a hyphen/],
      // The ElastiCache schema's pattern admits two hyphens; the documented rule does not.
      ['ab--cd', /UserId "tessera-ab--cd-app": elasticache-user-id: two hyphens in a row/],
      ['Abcd', /k8s-namespace: does not match/],
    ] as const) {
      expect(bad).not.toMatch(ID);
      expect(show(violations(bad)).join('\n'), bad).toMatch(expected);
    }
  });

  it('are bound by the ElastiCache user id tessera-<id>-default (40 characters): one more character breaks it and nothing else', () => {
    // The longest id each name admits, found by instantiating longer and longer ids.
    const firstBreak = new Map<string, number>();
    for (let n = MAX + 1; n <= 64; n++) {
      for (const v of violations(idOf(n))) if (!firstBreak.has(v.name)) firstBreak.set(v.name, n);
    }
    const headroom = [...firstBreak].sort((a, b) => a[1] - b[1]).map(([name, n]) => `id <= ${n - 1}: ${name}`);
    console.log(`Longest tenant id each name admits (TENANT_ID_PATTERN allows ${MAX}):\n  ${headroom.join('\n  ')}`);
    const binding = [...firstBreak].filter(([, n]) => n === MAX + 1).map(([name]) => name);
    expect(binding, `TENANT_ID_PATTERN allows ${MAX} characters, but every name would take ${MAX + 1}: say in its docstring what binds it now`).not.toEqual([]);
    for (const name of binding) expect(name).toMatch(/^AWS::ElastiCache::(User UserId|UserGroup UserIds\[\]) tessera-<id>-default$/);
  });
});

// ---------------------------------------------------------------------------------------------
// Reserved ids. Platform names: every name property of the platform, organization and account
// baseline stacks, the name patterns (with `*`) of their IAM policies, the account baseline stack
// name (given at deploy time) and Kubernetes' own namespaces. Tenant names: what the blueprints
// and the Lambdas name for an id (above), CloudFormation-generated names `<stack>-<LogicalId>-<13>`
// (of the kinds of resource the blueprints create),
// and the tenant's own ARN patterns. A tenant id collides when one of its names
//  - equals a platform name, or is its leading part up to a `-`, `/` or `:` (any kind of resource:
//    the same string would read as the platform's in CloudTrail, consoles and `tessera-*` grants), or
//  - matches a platform pattern of the same kind, but not through its own id (`tessera-*-namespace`
//    matches `tessera-x-namespace` as tenant `x`'s namespace stack; as tenant `x-namespace`'s stack
//    it is not its own; patterns without literal text, such as `log-group:*`, scope no name), or
//  - is a tenant pattern (of its grants) that matches a platform name of the same kind.
// ---------------------------------------------------------------------------------------------

interface NameEntry { readonly name: string; readonly kind: string; readonly source: string }

const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
/** `AWS::Logs::LogGroup` → `logs:loggroup`. */
const kindOfType = (type: string) => { const [, service, resource] = type.split('::'); return `${norm(service)}:${norm(resource ?? '')}`; };

/** Kind and name of an ARN's resource (the cluster for EKS sub-resources, the bucket for S3 objects). */
function arnName(arn: string): NameEntry | undefined {
  const parts = arn.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) return undefined;
  const service = parts[2];
  const resource = parts.slice(5).join(':');
  if (service === 's3') return { kind: 's3:bucket', name: resource.split('/')[0], source: arn };
  if (service === 'kms' && resource.startsWith('alias/')) return { kind: 'kms:alias', name: resource, source: arn };
  const m = /^([a-z-]+)[/:](.*)$/.exec(resource);
  if (!m) return undefined;
  const [, type, rest] = m;
  // A stream ARN names the stream (SageMaker's job streams share the account's fixed group /aws/sagemaker/TrainingJobs).
  if (service === 'logs' && rest.includes(':log-stream:')) return { kind: 'logs:logstream', name: rest, source: arn };
  if (service === 'logs') return { kind: 'logs:loggroup', name: rest.replace(/:\*$/, ''), source: arn };
  if (service === 'iam') return { kind: type === 'policy' ? 'iam:managedpolicy' : `iam:${type}`, name: rest, source: arn };
  if (service === 'eks') return { kind: 'eks:cluster', name: rest.split('/')[0], source: arn };
  if (service === 'rds' && type === 'db') return { kind: 'rds:dbinstance', name: rest, source: arn };
  if (service === 'rds' && type === 'snapshot') return { kind: 'rds:dbsnapshot', name: rest, source: arn };
  if (service === 'events' && type === 'rule') return { kind: 'events:rule', name: rest.split('/').pop()!, source: arn };
  if (service === 'cloudformation') return { kind: 'cloudformation:stack', name: rest.split('/')[0], source: arn };
  if (service === 'secretsmanager') return { kind: 'secretsmanager:secret', name: rest, source: arn };
  return { kind: `${service}:${norm(type)}`, name: rest.split(/[/:]/)[0], source: arn };
}

function renderLenient(v: Json): Json {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(renderLenient);
  const o = v as Record<string, Json>;
  const keys = Object.keys(o);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
    if (keys[0] === 'Ref' && String(o.Ref).startsWith('AWS::')) return `{${String(o.Ref).replace('::', '.')}}`;
    if (keys[0] === 'Fn::Join') {
      const [sep, list] = o['Fn::Join'] as [string, Json];
      const items = renderLenient(list);
      return Array.isArray(items) ? items.map((x) => (typeof x === 'string' ? x : '*')).join(sep) : '*';
    }
    return '*';
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, renderLenient(x)]));
}

/** The platform's names and name patterns. */
function platformNames(): NameEntry[] {
  const out: NameEntry[] = [
    { name: ACCOUNT_BASELINE_STACK_NAME, kind: 'cloudformation:stack', source: 'ACCOUNT_BASELINE_STACK_NAME' },
    // https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces
    ...['default', 'kube-system', 'kube-public', 'kube-node-lease'].map((name) => ({ name, kind: 'k8s:namespace', source: 'Kubernetes initial namespaces' })),
  ];
  for (const { name: stack, template } of platformTemplates) {
    for (const [logicalId, r] of Object.entries(template.Resources)) {
      const props = renderLenient(r.Properties ?? {}) as Record<string, Json>;
      const named = Object.entries(props).filter(([k]) => /Name$/.test(k) && !/^(ServiceName|MetricName)$/.test(k));
      const plan = (props.BackupPlan as Record<string, Json> | undefined)?.BackupPlanName;
      if (plan !== undefined) named.push(['BackupPlanName', plan]);
      // Literal names only (a name made of other resources' ids is not one a tenant id can spell).
      for (const [k, v] of named) if (typeof v === 'string' && !/[{*]/.test(v)) out.push({ name: v, kind: kindOfType(r.Type), source: `${stack} ${logicalId} ${k}` });
      // Name patterns in policies: ARNs whose name has a wildcard and some literal text (`log-group:*` scopes no name).
      const walk = (v: Json) => {
        if (typeof v === 'string') {
          const e = v.startsWith('arn:') ? arnName(v) : undefined;
          if (e && e.name.includes('*') && /[a-z0-9]/i.test(e.name)) out.push({ ...e, source: `${stack} ${logicalId}: ${v}` });
        } else if (v && typeof v === 'object') Object.values(v).forEach(walk);
      };
      walk(props);
    }
  }
  return out;
}

const escape = (s: string) => s.replace(/[.+^${}()|[\]\\]/g, '\\$&');
const globCache = new Map<string, RegExp>();
/** `*` any characters, `?` one. */
function glob(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${escape(pattern).replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    globCache.set(pattern, re);
  }
  return re;
}
/**
 * Whether `text` matches `pattern` as `glob(pattern).test(text)` does, for names without line
 * terminators (which `.` does not match; no name has one), without compiling an expression: for
 * patterns made once per tenant id (a tenant's own part of a platform pattern), where compiling one
 * each time cost more than the matching. `*` takes the fewest characters first, and on a mismatch the
 * last `*` takes one more (the usual wildcard matching; `*` and `?` match any character here).
 */
function matchesGlob(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
const isPattern = (s: string) => /[*?]/.test(s);
/** Kinds of the resources the blueprints create: what a CloudFormation-generated name (kind `generated`) can be. */
let generatedKinds: Set<string>;
const sameKind = (a: string, b: string) => a === b || (a === 'generated' && generatedKinds.has(b)) || (b === 'generated' && generatedKinds.has(a));

/** The names a tenant id gives rise to, with their kinds; patterns (its grants) included. */
function tenantNames(tenantId: string): NameEntry[] {
  const out: NameEntry[] = [];
  for (const b of blueprints) {
    const env = envFor(b.template, tenantId);
    for (const d of b.derived) {
      const cls = classOf(d);
      const value = render(d.expr, env);
      if (typeof value !== 'string') continue;
      if (cls?.kind) out.push({ name: value, kind: cls.kind, source: `${b.name} ${d.logicalId} ${key(d)}` });
      if (cls?.checks.includes('arn')) {
        const e = arnName(value);
        if (e) out.push({ ...e, source: `${b.name} ${d.logicalId} ${key(d)}` });
      }
      if (cls?.checks.includes('manifest')) for (const [rule, name] of namesInManifest(value)) if (rule === 'k8s-namespace') out.push({ name, kind: 'k8s:namespace', source: `${b.name} ${d.logicalId} manifest` });
    }
  }
  // Resources only: session names and source identities name no resource.
  for (const r of RUNTIME_NAMES.filter((x) => !x.kind.startsWith('sts:'))) out.push({ name: r.name(tenantId), kind: r.kind, source: r.what });
  // CloudFormation names what the templates leave unnamed `<stack>-<LogicalId>-<13 characters>`
  // (lower case for S3 and the like); service roles sit on the path /tessera/service-role/.
  for (const stack of [stackName(tenantId, 'tenant'), stackName(tenantId, 'namespace')]) {
    out.push({ name: `${stack}-LogicalId-ABCDEFGHIJKLM`, kind: 'generated', source: `generated in ${stack}` });
    out.push({ name: `${stack}-logicalid-abcdefghijklm`, kind: 'generated', source: `generated in ${stack}` });
    out.push({ name: `tessera/service-role/${stack}-LogicalId-ABCDEFGHIJKLM`, kind: 'iam:role', source: `service role generated in ${stack}` });
  }
  return out;
}

interface Collision { readonly tenantName: NameEntry; readonly platformName: NameEntry; readonly how: string }

/**
 * Names that are scoped inside one platform resource and compared with nothing else: a Cognito
 * group's name exists only within its user pool (the platform pool's role groups `tenant-<role>`,
 * lib/identity/roles.ts), no tenant name is a Cognito group, and no policy, ARN pattern or
 * Kubernetes binding reads a group name. `tenant-developer` the group and `tenant-developer` the
 * namespace of a tenant "developer" name different things and can never be taken for each other.
 */
const POOL_SCOPED_KINDS = new Set(['cognito:userpoolgroup']);

/** A platform name with what {@link collisions} asks of it for every tenant name, computed once per list. */
interface PreparedName { readonly entry: NameEntry; readonly index: number; readonly pattern: boolean; readonly lower: string; readonly poolScoped: boolean }
/**
 * A list's prepared names, and two indexes of its plain (wildcard-free) names by lower-case text:
 * `equal` by the whole name, `leading` by each leading part that a separator (`-`, `/`, `:`) follows
 * in the name (`tessera-tenants` under `tessera`). They answer, for a plain tenant name, exactly the
 * plain platform names the comparison in {@link collisions} would find `equal` or `leading part` by
 * going through the whole list.
 */
interface PreparedList {
  readonly names: PreparedName[];
  readonly patterns: PreparedName[];
  readonly plain: PreparedName[];
  readonly equal: Map<string, PreparedName[]>;
  readonly leading: Map<string, PreparedName[]>;
  /** Per tenant name kind: the patterns, and the plain names, of a kind {@link sameKind} pairs with it (made on first use, after generatedKinds is set). */
  readonly byKind: Map<string, { patterns: PreparedName[]; plain: PreparedName[] }>;
}
const preparedLists = new WeakMap<NameEntry[], PreparedList>();
function prepared(platform: NameEntry[]): PreparedList {
  let list = preparedLists.get(platform);
  if (!list) {
    const names = platform.map((entry, index) => ({ entry, index, pattern: isPattern(entry.name), lower: entry.name.toLowerCase(), poolScoped: POOL_SCOPED_KINDS.has(entry.kind) }));
    const equal = new Map<string, PreparedName[]>();
    const leading = new Map<string, PreparedName[]>();
    const add = (map: Map<string, PreparedName[]>, key: string, n: PreparedName) => (map.get(key) ?? map.set(key, []).get(key)!).push(n);
    for (const n of names.filter((x) => !x.pattern)) {
      add(equal, n.lower, n);
      for (let i = 0; i < n.lower.length; i++) if (/[-/:]/.test(n.lower[i])) add(leading, n.lower.slice(0, i), n);
    }
    list = { names, patterns: names.filter((n) => n.pattern), plain: names.filter((n) => !n.pattern), equal, leading, byKind: new Map() };
    preparedLists.set(platform, list);
  }
  return list;
}

/**
 * Every collision of the names of `tenantId` with `platform`'s: for each tenant name, the platform
 * names in list order that equal it, that it is a leading part of (up to a separator), whose pattern
 * matches it (not as this tenant's own), or that its pattern matches. The plain pairs are looked up
 * in the list's indexes ({@link prepared}) instead of compared with every platform name, and the
 * patterns tried are those of a kind the tenant name's pairs with.
 */
function collisions(tenantId: string, platform: NameEntry[]): Collision[] {
  const out: Collision[] = [];
  const list = prepared(platform);
  const { equal, leading, byKind } = list;
  for (const t of tenantNames(tenantId)) {
    const tn = t.name.toLowerCase();
    let kinded = byKind.get(t.kind);
    if (!kinded) byKind.set(t.kind, (kinded = { patterns: list.patterns.filter((p) => sameKind(t.kind, p.entry.kind)), plain: list.plain.filter((p) => sameKind(t.kind, p.entry.kind)) }));
    const found: Array<{ p: PreparedName; how: string }> = [];
    if (!isPattern(t.name)) {
      for (const p of equal.get(tn) ?? []) found.push({ p, how: 'equal' });
      for (const p of leading.get(tn) ?? []) found.push({ p, how: 'leading part' });
      for (const p of kinded.patterns) {
        if (!glob(p.entry.name).test(t.name)) continue;
        // Its own: the tenant's id is part of what the wildcard stands for (tessera-*-namespace for
        // tessera-x-namespace and tenant x; tessera/* for tessera/service-role/tessera-x-… and tenant x).
        if (!matchesGlob(p.entry.name.replace('*', `*${tenantId}*`), t.name)) found.push({ p, how: 'matches the pattern, not as this tenant\'s own' });
      }
    } else {
      for (const p of kinded.plain) if (glob(t.name).test(p.entry.name)) found.push({ p, how: 'the tenant\'s pattern matches it' });
    }
    // A group's name exists only within its pool: compared with names of its own kind alone.
    for (const { p, how } of found.filter(({ p }) => !p.poolScoped || p.entry.kind === t.kind).sort((a, b) => a.p.index - b.p.index)) {
      out.push({ tenantName: t, platformName: p.entry, how });
    }
  }
  return out;
}

/** Candidate ids from the platform names: every run of words, alone and with a word before, after or both. */
function probeIds(platform: NameEntry[]): string[] {
  const ids = new Set<string>(['acme', 'globex', ...BOUNDARY_IDS]);
  for (const p of platform) {
    for (const run of p.name.toLowerCase().match(/[a-z0-9-]+/g) ?? []) {
      const words = run.split('-').filter(Boolean);
      for (let i = 0; i < words.length; i++) {
        for (let j = i + 1; j <= words.length; j++) {
          const w = words.slice(i, j).join('-');
          for (const id of [w, `${w}-x`, `x-${w}`, `x-${w}-x`]) if (ID.test(id)) ids.add(id);
        }
      }
    }
  }
  return [...ids].sort();
}

describe('reserved tenant ids', () => {
  let platform: NameEntry[];
  let probes: string[];
  let colliding: Map<string, Collision[]>;
  beforeAll(() => {
    generatedKinds = new Set(blueprints.flatMap((b) => Object.values(b.template.Resources).map((r) => kindOfType(r.Type))));
    platform = platformNames();
    probes = probeIds(platform);
    colliding = new Map(probes.map((id) => [id, collisions(id, platform)] as const).filter(([, c]) => c.length > 0));
  });

  const describeCollision = (id: string, c: Collision) => `"${id}": ${c.tenantName.kind} ${c.tenantName.name} (${c.tenantName.source}) ${c.how} ${c.platformName.kind} ${c.platformName.name} (${c.platformName.source})`;

  it('harvests the platform\'s names and patterns', () => {
    const names = new Set(platform.map((p) => p.name));
    for (const n of ['tessera-account-baseline', 'tessera-tenants', 'tessera-lifecycle-control', 'tessera-shared', 'tessera-guardrails', 'tessera-quarantine',
      'tessera-onboard', 'tessera-change', 'tessera-status', 'tessera-offboard', 'tessera-upgrade', 'tessera-lifecycle-*', 'tessera-*-namespace']) expect(names, n).toContain(n);
    expect(probes.length).toBeGreaterThan(200);
  });

  it('knows the role groups (issue 15) and skips only their cross-kind equalities: a group is named within its pool', () => {
    const groups = platform.filter((p) => p.kind === 'cognito:userpoolgroup').map((p) => p.name).sort();
    expect(groups).toEqual(['tenant-admin', 'tenant-developer', 'tenant-member', 'tenant-viewer']);
    // Tenant "developer" has the namespace tenant-developer: the group's equal name is no collision...
    expect(collisions('developer', platform).filter((c) => c.platformName.kind === 'cognito:userpoolgroup')).toEqual([]);
    // ...while the same machinery still reports a same-named platform resource of another kind.
    const planted: NameEntry[] = [...platform, { name: 'tenant-developer', kind: 'cloudformation:stack', source: 'planted' }];
    expect(collisions('developer', planted).map((c) => c.platformName.source)).toContain('planted');
  });

  it('reserves every id whose names collide with the platform\'s (derived from the synthesized stacks)', () => {
    const missed = [...colliding].filter(([id]) => !tenantIdReservation(id)).map(([id, cs]) => describeCollision(id, cs[0]));
    expect(missed).toEqual([]);
  });

  it('reserves nothing without a reason: each reserved id, prefix and word collides, and each reason names a platform name', () => {
    for (const id of Object.keys(RESERVED_TENANT_IDS)) expect(collisions(id, platform).length, `reserved id "${id}" collides with nothing`).toBeGreaterThan(0);
    for (const word of Object.keys(RESERVED_TENANT_ID_WORDS)) expect(collisions(`x-${word}`, platform).length, `word "${word}"`).toBeGreaterThan(0);
    const platformStrings = platform.map((p) => p.name);
    for (const [entry, reason] of [...Object.entries(RESERVED_TENANT_IDS), ...Object.entries(RESERVED_TENANT_ID_PREFIXES), ...Object.entries(RESERVED_TENANT_ID_WORDS)]) {
      const cited = (reason.match(/(alias\/)?\/?tessera[-/][A-Za-z0-9*/-]*[A-Za-z0-9*]/g) ?? []).filter((c) => platformStrings.some((p) => p === c || glob(c).test(p)));
      expect(cited.length, `the reason for "${entry}" names no platform name: ${reason}`).toBeGreaterThan(0);
    }
  });

  it('reserves prefixes where the platform has a family of names or a trust pattern', () => {
    // tessera-lifecycle-* is what the organization access role trusts in the platform account: a
    // tenant "lifecycle-x" would have its pod-bridge role there, named tessera-lifecycle-x-pod-bridge.
    expect(colliding.get('lifecycle-x')?.map((c) => c.platformName.name)).toContain('tessera-lifecycle-*');
    for (const prefix of Object.keys(RESERVED_TENANT_ID_PREFIXES)) expect(tenantIdReservation(`${prefix}x`)).toBe(RESERVED_TENANT_ID_PREFIXES[prefix]);
  });

  it('keeps ordinary and boundary ids free', () => {
    for (const id of ['acme', 'globex', ...BOUNDARY_IDS]) {
      expect(collisions(id, platform).map((c) => describeCollision(id, c)), id).toEqual([]);
      expect(tenantIdReservation(id), id).toBeUndefined();
    }
  });

  it('keeps tenants apart: no id names a resource of the same kind as another tenant\'s, unless reserved', () => {
    // Tenant "acme" and tenants whose id extends it by words of acme's own names (acme-namespace, acme-admin, …).
    const base = 'acme';
    const mine = tenantNames(base).filter((n) => n.kind !== 'generated' && !isPattern(n.name));
    const others = new Set<string>();
    for (const n of mine) {
      const at = n.name.indexOf(`${base}-`);
      if (at < 0) continue;
      const words = (n.name.slice(at + base.length + 1).match(/^[a-z0-9-]+/)?.[0] ?? '').split('-').filter(Boolean);
      for (let j = 1; j <= words.length; j++) {
        const id = `${base}-${words.slice(0, j).join('-')}`;
        if (ID.test(id)) others.add(id);
      }
    }
    expect(others).toContain('acme-namespace');
    const clashes: string[] = [];
    for (const other of others) {
      for (const n of tenantNames(other).filter((x) => x.kind !== 'generated' && !isPattern(x.name))) {
        const same = mine.find((m) => m.kind === n.kind && m.name === n.name);
        if (same && !tenantIdReservation(other)) clashes.push(`"${other}" ${n.kind} ${n.name} (${n.source}) = tenant "${base}"'s (${same.source})`);
      }
    }
    expect(clashes).toEqual([]);
    expect(tenantIdReservation('acme-namespace')).toBeDefined();
  });
});
