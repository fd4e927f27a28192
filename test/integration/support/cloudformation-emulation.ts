import { randomUUID } from 'node:crypto';
import {
  CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, GetTemplateCommand,
  ListStackResourcesCommand, UpdateStackCommand, type CreateStackCommandInput, type Parameter, type StackEvent, type StackResourceSummary, type UpdateStackCommandInput,
} from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { registerClientPlugin } from '../../../lambdas/shared/aws-clients.js';
import type { CfnTemplate } from './derive-moto-blueprint.js';
import type { MotoCloudFormation } from './moto-cloudformation.js';
import { deleteWhatMotoLeaves } from './moto-delete-gaps.js';
import { harnessHttp } from './harness-http.js';
import { templateForMoto } from './moto-template.js';
import { checkParameterValues } from './parameter-constraints.js';
import { createNamedResource, deleteNamedResource, namedResourceExists, namedResources, namedResourcesExisting } from './named-resources.js';
import { deleteResource, snapshotDatabase, type DeployedResource } from './resource-deleters.js';
import { storageChanges, storageRefusal, type StorageChange } from './rds-storage-updates.js';
import { dependenciesOf, rollbackPlan, type RollbackPlan } from './rollback-plan.js';
import { StackOverlay, summary, type EmulatedStack } from './stack-overlay.js';
import { databaseProtected, parameterValues as withDefaults } from './template-conditions.js';

/**
 * CloudFormation as AWS behaves, on top of moto's CloudFormation, for the Lambdas' real clients
 * (SDK middleware, innermost at the initialize step, so injected faults still come first).
 * moto creates and deletes the resources; this layer supplies what moto does not do:
 *
 * - Parameter values (the operation's, with the template's defaults) are checked against the
 *   template's AllowedPattern, AllowedValues, MinLength/MaxLength and MinValue/MaxValue on
 *   CreateStack, UpdateStack and CreateChangeSet: a value that breaks one fails the call with
 *   AWS's ValidationError, nothing done (parameter-constraints.ts). moto takes any value.
 * - CreateStack/UpdateStack: the template is read from its TemplateURL and handed to moto with
 *   `Fn::Cidr` evaluated and RetainExceptOnCreate spelled as moto's Retain (moto-template.ts); an
 *   object S3 cannot give (no such key or bucket, access denied) fails the call with AWS's
 *   ValidationError "S3 error: <S3's message>", not S3's own error.
 *   An update that changes nothing (template and parameter values as last applied) fails with
 *   "No updates are to be performed." (moto performs it).
 * - UpdateStack as AWS reads it: `UsePreviousTemplate` (the template last applied, as published),
 *   `UsePreviousValue` (the value last applied), a parameter left out takes its default, and a
 *   RoleARN left out keeps the stack's role (moto's update would clear it).
 * - In-place updates moto cannot make: a resource whose template entry changed and whose moto
 *   model has no update (moto-cloudformation.ts `updates`) would be dropped from moto's stack
 *   (and every later `Fn::GetAtt` of it fail); moto keeps its previous entry instead, as AWS keeps
 *   the resource, and the properties the tests read are applied by API (the database's
 *   DeletionProtection, and its AllocatedStorage and MaxAllocatedStorage when the template changes them, after RDS's
 *   rules: a change RDS refuses (less storage, less than 10% more, a ceiling less than 10% above the instance's
 *   storage) fails the update at the instance and rolls it back, as failUpdate does (rds-storage-updates.ts); nothing
 *   else: tags, instance class, log retention stay as created).
 *   A bucket with a generated name is updated with that name given: moto's bucket update reads
 *   the `BucketName` property to tag it (KeyError otherwise).
 * - GetTemplate answers the template as published (AWS's `Original` stage: RetainExceptOnCreate
 *   as written, not moto's Retain), also for a deleted stack by its id; DescribeStackEvents of a
 *   deleted emulated stack by its id answers its events with the deletion's.
 * - ClientRequestToken, by which AWS recognizes a retry: CreateStack with the token of the request
 *   that created the existing stack of that name answers that stack's id and starts nothing; any
 *   other CreateStack of an existing name (emulated or moto's) fails with AlreadyExistsException
 *   (moto's own refusal of it would otherwise be taken for a failed create). UpdateStack and
 *   DeleteStack with the token of the stack's last update, or last delete, succeed without a new
 *   operation. The emulated events (rollback, deletion) carry the operation's ClientRequestToken
 *   (moto's own events carry none). A deletion that fails (DELETE_FAILED) sets the stack's
 *   `DeletionTime` anew, as AWS's DescribeStacks shows it (Tessera's DeleteStack tokens hash it:
 *   lambdas/lifecycle/delete-token.ts).
 * - Termination protection: moto has no UpdateTerminationProtection and deletes a protected stack.
 *   Here it is kept per stack (CreateStack `EnableTerminationProtection`, UpdateTerminationProtection,
 *   DescribeStacks), and DeleteStack of a protected stack fails with AWS's ValidationError.
 *   UpdateTerminationProtection by the id of a deleted stack is refused (ValidationError "does not exist"): nothing of
 *   that stack is left to protect (the API reference names no error of the operation's own; the message is a missing stack's).
 * - RoleARN: moto records it and never uses it. AWS assumes it; a role that does not exist in the
 *   stack's account or does not trust cloudformation.amazonaws.com fails the call with
 *   ValidationError "Role <arn> is invalid or cannot be assumed". Checked here.
 * - AWS::RDS::DBInstance DeletionProtection: moto's handler drops it (the instance is created
 *   unprotected); after a create or an update it is set on the instance as the template resolves
 *   it for the operation's parameters (a literal, or `Fn::If` on a condition of them, as the
 *   blueprints' `DatabaseDeletionProtection` parameter drives it: template-conditions.ts).
 * - A create that fails rolls back (rollback-plan.ts): the stack ends ROLLBACK_COMPLETE (or
 *   ROLLBACK_FAILED) with its events, retained resources stay outside it, the rest is deleted.
 *   ROLLBACK_FAILED (a protected database refuses its deletion): what the database does not hold
 *   is deleted as on a complete rollback (those moto would retain by API at once; the others stay
 *   in moto's stack until it is deleted, which no re-run can tell apart), what it holds stays in
 *   the stack, and a later DeleteStack deletes or retains those as their policies say.
 *   A failure is injected (`failCreate`), or is moto's own refusal of a name that exists, which
 *   moto returns as an HTTP error of CreateStack, its stack left in CREATE_IN_PROGRESS. Then the
 *   existing resource is stepped aside while moto completes the stack (ListStackResources makes
 *   moto create what it had not reached, as AWS creates in parallel), the rollback runs as for
 *   an injected failure, and the existing resource is put back.
 * - Deletions (DeleteStack, rollback, resources an update removes) first delete by API what
 *   moto's CloudFormation would leave (moto-delete-gaps.ts). A DB instance with deletion
 *   protection makes DeleteStack fail (DELETE_FAILED, with RDS's message) instead of moto's answer
 *   (an error, and the stack vanishing with the instance left behind); `Snapshot` instances leave
 *   their final snapshot. ListStackResources of a deleted or rolled-back stack (by stack id, as
 *   AWS keeps them) reports each resource's final status: DELETE_SKIPPED for what was retained.
 *
 * - Change sets (the change and upgrade workflows update through one: lambdas/lifecycle/change-set-guard.ts),
 *   which moto would execute with its own update (no emulation above, and an IAM DeleteConflict
 *   on the blueprints): CreateChangeSet (UPDATE only) records the request and compares the
 *   template and parameter values with those last applied — nothing different is a FAILED change
 *   set "The submitted information didn't contain changes…", as AWS answers; otherwise
 *   CREATE_COMPLETE/AVAILABLE with an Add, Remove or Modify per resource whose entry differs.
 *   Modify says `Replacement: False`, except for the create-only properties of CREATE_ONLY (an IAM
 *   role's RoleName and Path: `Replacement: True`, the property in Details, as AWS says; moto replaces
 *   such a role: tessera_moto_patches.py replace_renamed_roles). Otherwise the emulation never
 *   replaces (moto updates in place or keeps the entry), and AWS's replacement rules per property are
 *   not modelled — the guard's decisions are tested with aws-sdk-client-mock. ExecuteChangeSet runs the recorded request as
 *   the UpdateStack above (same token rules); DescribeChangeSet and DeleteChangeSet answer from
 *   the record (ChangeSetNotFoundException for an unknown one).
 *
 * - Injected deletion and update failures (failDelete, failUpdate): a resource whose deletion a rollback or a
 *   DeleteStack meets fails as a protected database does (ROLLBACK_FAILED, DELETE_FAILED), with the reason given;
 *   an update fails at a resource and rolls back (UPDATE_ROLLBACK_COMPLETE; moto's stack untouched). ListStacks
 *   lists a stack moto holds with the status answered here (DELETE_FAILED, ROLLBACK_FAILED, UPDATE_ROLLBACK_COMPLETE).
 *
 * Simplifications: a failed delete leaves every resource in moto (AWS would have deleted those
 * the failed one does not hold); an update that fails on its own is moto's error, with no UPDATE_ROLLBACK
 * (failUpdate injects one); the events of an injected update rollback go with the stack's next update or delete.
 */

export interface RollbackRecord {
  readonly stackName: string;
  readonly account: string;
  /** The resource that failed and why; `injected` false when moto itself refused it. */
  readonly failure: { logicalId: string; reason: string; injected: boolean };
  readonly retainExceptOnCreate: boolean;
  readonly plan: RollbackPlan;
  readonly status: 'ROLLBACK_COMPLETE' | 'ROLLBACK_FAILED';
  /** Snapshots taken (Snapshot policy). */
  readonly snapshots: string[];
  /** What moto had created of the stack when the rollback started, with physical ids. */
  readonly resources: readonly DeployedResource[];
}

export interface CloudFormationEmulation {
  /** The next CreateStack of `stackName` fails at `logicalId` with `reason` (after moto created the stack), and rolls back. */
  failCreate(stackName: string, logicalId: string, reason: string): void;
  /**
   * The next `times` deletions of resource `logicalId` of `stackName` fail with `reason` (a resource handler's refusal,
   * as a non-empty bucket's or a dependency's): a create's rollback (after failCreate) then ends ROLLBACK_FAILED, the
   * resource and what it depends on kept in the stack, and a DeleteStack ends DELETE_FAILED, nothing deleted. Each
   * rollback or DeleteStack that meets the resource uses one.
   * @default times 1
   */
  failDelete(stackName: string, logicalId: string, reason: string, times?: number): void;
  /**
   * The next UpdateStack (or ExecuteChangeSet) of `stackName` fails at `logicalId` with `reason` and rolls back:
   * the stack ends UPDATE_ROLLBACK_COMPLETE as it was (template, parameters, tags: moto is not updated), with the
   * events CloudFormation records. A later update or delete of the stack clears the status and those events.
   */
  failUpdate(stackName: string, logicalId: string, reason: string): void;
  /** Every rollback emulated so far. */
  readonly rollbacks: readonly RollbackRecord[];
  uninstall(): void;
}

interface EmulatedChangeSet {
  readonly id: string;
  readonly stackId: string;
  readonly request: UpdateStackCommandInput;
  status: 'CREATE_COMPLETE' | 'FAILED';
  executionStatus: 'AVAILABLE' | 'UNAVAILABLE' | 'EXECUTE_COMPLETE';
  readonly statusReason?: string;
  readonly changes: Array<{ Type: 'Resource'; ResourceChange: Record<string, unknown> }>;
}

interface Caller {
  readonly credentials: AwsCredentialIdentity;
  readonly account: string;
  /** The calling client's region: a tenant's DR stack lives in its DR region (moto keeps stacks per region). */
  readonly region: string;
  readonly cfn: CloudFormationClient;
  readonly rds: RDSClient;
  readonly ec2: EC2Client;
  /** IAM (global): the RoleARN check's. */
  readonly iam: IAMClient;
}

/**
 * CloudFormation's refusal of a parameter the template does not declare, which moto does not make
 * (it ignores it): the operation fails at once with `ValidationError: Parameters: [X] do not exist in
 * the template` (every such key, as AWS lists them). An older blueprint version without a parameter a
 * newer one declares meets exactly this.
 */
export function checkDeclaredParameters(template: CfnTemplate, given: readonly string[]): void {
  const unknown = given.filter((k) => !Object.hasOwn(template.Parameters ?? {}, k));
  if (unknown.length) throw awsError('ValidationError', `Parameters: [${unknown.join(', ')}] do not exist in the template`);
}

/** The Availability Zone parameter types (AWS-specific parameter types of the User Guide's "Parameters" section). */
const ZONE_PARAMETER_TYPES = ['AWS::EC2::AvailabilityZone::Name', 'List<AWS::EC2::AvailabilityZone::Name>'];

/**
 * CloudFormation's check of AWS-specific parameter values, which moto does not make: every value of
 * an Availability Zone parameter must be a zone of the caller's account and region (moto's
 * DescribeAvailabilityZones), else the operation fails at once with AWS's ValidationError
 * (`Parameter validation failed: parameter value <v> for parameter name <name> does not exist.`,
 * its wording for every AWS-specific type). A zone name of another region is such a value.
 */
async function checkZoneParameters(template: CfnTemplate, values: Record<string, string>, c: Caller): Promise<void> {
  const declared = Object.entries(template.Parameters ?? {}).filter(([, p]) => ZONE_PARAMETER_TYPES.includes((p as { Type?: string }).Type ?? ''));
  if (!declared.length) return;
  const zones = new Set(((await c.ec2.send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones ?? []).map((z) => z.ZoneName));
  for (const [name] of declared) {
    const value = values[name];
    if (value === undefined) continue;
    for (const item of value.split(',').map((v) => v.trim())) {
      if (!zones.has(item)) throw awsError('ValidationError', `Parameter validation failed: parameter value ${item} for parameter name ${name} does not exist.`);
    }
  }
}

const PROTECTED_DB_MESSAGE = 'Cannot delete protected DB Instance, please disable deletion protection and try again.';
const RETAINED_BY_MOTO = ['Retain', 'RetainExceptOnCreate'];

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

/** moto's own message from a failed call (its body may be JSON, XML or HTML, which the SDK cannot always parse). */
function motoMessage(e: unknown): string {
  const body = (e as { $response?: { body?: unknown } }).$response?.body;
  if (typeof body === 'string') {
    try {
      const json = JSON.parse(body) as { message?: string; Message?: string };
      if (json.message ?? json.Message) return (json.message ?? json.Message)!;
    } catch {
      const xml = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
      if (xml) return xml;
    }
  }
  return (e as Error).message;
}

/**
 * A stack parameter's value as AWS answers it. moto 5.2.5 answers a list parameter (`List<…>`,
 * `CommaDelimitedList`, which it splits) with the Python list's repr (`['us-east-1a', 'us-east-1b']`,
 * moto/cloudformation/parsing.py); DescribeStacks in AWS gives the value as passed, comma-delimited.
 */
export function awsParameterValue(value: string | undefined): string {
  const m = /^\[(.*)\]$/.exec(value ?? '');
  if (!m) return value ?? '';
  const items = m[1].trim() === '' ? [] : m[1].split(/,\s*/).map((x) => x.trim().replace(/^'(.*)'$/, '$1'));
  return items.join(',');
}
const awsParameters = (parameters: Parameter[] | undefined) => parameters?.map((p) => ({ ...p, ParameterValue: awsParameterValue(p.ParameterValue) }));
const parameterValues = (parameters: Parameter[] | undefined) => Object.fromEntries((parameters ?? []).map((p) => [p.ParameterKey!, awsParameterValue(p.ParameterValue)]));
const sameValues = (a: Record<string, string>, b: Record<string, string>) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** What the last successful create or update of a stack applied: the template as published and every parameter value (defaults included). */
interface Applied {
  readonly template: CfnTemplate;
  readonly parameters: Record<string, string>;
}

/**
 * Create-only properties ("Update requires: Replacement", AWS CloudFormation Template Reference) the emulation knows,
 * by resource type: a change of one replaces the resource. Only those whose replacement moto performs are listed
 * (support/moto-python/tessera_moto_patches.py replace_renamed_roles); a property left out after a given value counts
 * as changed (AWS generates a name then).
 */
const CREATE_ONLY: Readonly<Record<string, readonly string[]>> = {
  'AWS::IAM::Role': ['RoleName', 'Path'],
};

/** The value AWS takes for a create-only property left out, where it has one (an IAM role's path is `/`). */
const CREATE_ONLY_DEFAULTS: Readonly<Record<string, unknown>> = { 'AWS::IAM::Role.Path': '/' };

/** The create-only properties (CREATE_ONLY) whose value differs between two template entries of one resource; [] when none or the type is not listed. */
function createOnlyChanges(was: { Type: string; Properties?: Record<string, unknown> }, now: { Type: string; Properties?: Record<string, unknown> }): string[] {
  if (was.Type !== now.Type) return [];
  const value = (r: typeof was, name: string) => JSON.stringify(r.Properties?.[name] ?? CREATE_ONLY_DEFAULTS[`${r.Type}.${name}`]);
  return (CREATE_ONLY[now.Type] ?? []).filter((name) => value(was, name) !== value(now, name));
}

export function emulateCloudFormation(options: { readTemplate(url: string): Promise<CfnTemplate>; moto: MotoCloudFormation }): CloudFormationEmulation {
  const overlay = new StackOverlay();
  const failures = new Map<string, { logicalId: string; reason: string }>();
  /** failDelete: by stack name, the resource whose deletion fails, why, and how many more times. */
  const deleteFailures = new Map<string, { logicalId: string; reason: string; times: number }>();
  /** failUpdate: by stack name. */
  const updateFailures = new Map<string, { logicalId: string; reason: string }>();
  /** Stacks whose update rolled back (failUpdate), by stack id: the status DescribeStacks answers and the rollback's events, newest first. */
  const rolledBackUpdates = new Map<string, { stackId: string; stackName: string; reason: string; events: StackEvent[] }>();
  /** Takes one failure of failDelete for `stackName` when its resource is among `logicalIds`. */
  const takeDeleteFailure = (stackName: string, logicalIds: readonly string[]) => {
    const f = deleteFailures.get(stackName);
    if (!f || !logicalIds.includes(f.logicalId)) return undefined;
    if (--f.times <= 0) deleteFailures.delete(stackName);
    return { logicalId: f.logicalId, reason: f.reason };
  };
  const rollbacks: RollbackRecord[] = [];
  /**
   * The account of each access key the emulation has served: learnt from the AssumeRole answers
   * the Lambdas' clients receive (the assumed role's account, the account moto's GetCallerIdentity
   * names for those keys), else asked of STS (GetCallerIdentity) at the key's first CloudFormation
   * call. Every Lambda session is a new key: that call was one request in ~25 of lifecycle.test.ts.
   */
  const accounts = new Map<string, string>();
  /** Resources of the stacks deleted through the emulation, by stack id, as ListStackResources reports them (moto keeps no final status). */
  const deletedStacks = new Map<string, StackResourceSummary[]>();
  /** By stack id. */
  const applied = new Map<string, Applied>();
  /** Termination protection by stack id. */
  const termination = new Map<string, boolean>();
  /** The template each stack was last created or updated with, as published, by stack id (kept after deletion, as AWS keeps it 90 days). */
  const published = new Map<string, CfnTemplate>();
  /** ClientRequestToken of the request that created each stack, and of its last update and last delete, by stack id (AWS recognizes a retry by it). */
  const tokens = new Map<string, { create?: string; update?: string; delete?: string }>();
  /** Events of deleted emulated stacks, by stack id, newest first. */
  const deletedEvents = new Map<string, StackEvent[]>();
  const region = () => process.env.AWS_REGION ?? 'us-east-1';
  /** Change sets by `<account>/<stack name>/<change set name>`. */
  const changeSets = new Map<string, EmulatedChangeSet>();

  /**
   * The emulation's own clients per caller identity, region and endpoint. An SDK client costs
   * ~1.3 ms of CPU more on its first call than on later ones (its config providers resolved, a new
   * connection; measured in the harness's process), and every intercepted CloudFormation call used
   * to make two; a client holds no state but its config, so one per (credentials, region, endpoint)
   * answers as a new one would. Bounded: cleared past 500 identities (each Lambda session is one).
   */
  const clients = new Map<string, { cfn: CloudFormationClient; rds: RDSClient; ec2: EC2Client; iam: IAMClient }>();

  async function caller(credentials: AwsCredentialIdentity, callerRegion = region()): Promise<Caller> {
    if (!accounts.has(credentials.accessKeyId)) {
      const identity = await new STSClient(harnessHttp({ credentials })).send(new GetCallerIdentityCommand({}));
      accounts.set(credentials.accessKeyId, identity.Account!);
    }
    const key = JSON.stringify([credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken ?? null, callerRegion, process.env.AWS_ENDPOINT_URL ?? null]);
    let made = clients.get(key);
    if (!made) {
      if (clients.size >= 500) clients.clear();
      const regional = harnessHttp({ credentials, maxAttempts: 1, region: callerRegion });
      clients.set(key, (made = { cfn: new CloudFormationClient(regional), rds: new RDSClient(regional), ec2: new EC2Client(regional), iam: new IAMClient(harnessHttp({ credentials })) }));
    }
    return { credentials, account: accounts.get(credentials.accessKeyId)!, region: callerRegion, ...made };
  }

  async function templateOf(input: { TemplateBody?: string; TemplateURL?: string }): Promise<CfnTemplate> {
    if (input.TemplateBody) return JSON.parse(input.TemplateBody) as CfnTemplate;
    // CloudFormation answers an object it cannot read with ValidationError "S3 error: <S3's message>" (not S3's NoSuchKey).
    if (input.TemplateURL) {
      return options.readTemplate(input.TemplateURL).catch((e: Error) => {
        throw e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.name === 'AccessDenied'
          ? awsError('ValidationError', `S3 error: ${e.message}\nFor more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html`)
          : e;
      });
    }
    throw awsError('ValidationError', 'Either Template URL or Template Body must be specified.');
  }

  async function checkRole(arn: string, c: Caller): Promise<void> {
    const invalid = () => awsError('ValidationError', `Role ${arn} is invalid or cannot be assumed`);
    const m = /^arn:aws:iam::(\d{12}):role\/(?:[^/]+\/)*([\w+=,.@-]+)$/.exec(arn);
    if (!m || m[1] !== c.account) throw invalid();
    const role = await c.iam.send(new GetRoleCommand({ RoleName: m[2] })).catch(() => undefined);
    if (!decodeURIComponent(role?.Role?.AssumeRolePolicyDocument ?? '').includes('cloudformation.amazonaws.com')) throw invalid();
  }

  async function listResources(stackName: string, c: Caller): Promise<DeployedResource[]> {
    const out: DeployedResource[] = [];
    let NextToken: string | undefined;
    do {
      const page = await c.cfn.send(new ListStackResourcesCommand({ StackName: stackName, NextToken }));
      for (const r of listedByAws(page.StackResourceSummaries)) out.push({ logicalId: r.LogicalResourceId!, type: r.ResourceType!, physicalId: r.PhysicalResourceId ?? '' });
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  }

  /** The template moto holds for the stack (its copy: Fn::Cidr evaluated, RetainExceptOnCreate as Retain). */
  async function storedTemplate(stackName: string, c: Caller): Promise<CfnTemplate> {
    const body = (await c.cfn.send(new GetTemplateCommand({ StackName: stackName }))).TemplateBody;
    return (typeof body === 'string' ? JSON.parse(body) : body) as CfnTemplate;
  }

  async function protect(dbIdentifier: string, c: Caller, on = true): Promise<void> {
    await c.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: dbIdentifier, DeletionProtection: on, ApplyImmediately: true }));
  }

  /** Each database of the stack protected as the template resolves DeletionProtection for `values` (moto's handler drops it). */
  async function syncDatabaseProtection(stackName: string, template: CfnTemplate, values: Record<string, string>, c: Caller): Promise<void> {
    // A template without a database: nothing to protect, and no listing to find one in.
    if (!Object.values(template.Resources).some((r) => r.Type === 'AWS::RDS::DBInstance')) return;
    for (const r of await listResources(stackName, c)) {
      if (r.type !== 'AWS::RDS::DBInstance') continue;
      const wanted = databaseProtected(template, r.logicalId, values);
      const now = (await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: r.physicalId }))).DBInstances?.[0]?.DeletionProtection === true;
      if (now !== wanted) await protect(r.physicalId, c, wanted);
    }
  }

  /** The first of `changes` RDS refuses for its instance as it is now (DescribeDBInstances), as failUpdate's entry; undefined when none. */
  async function storageFailure(changes: readonly StorageChange[], deployed: ReadonlyMap<string, DeployedResource>, c: Caller): Promise<{ logicalId: string; reason: string } | undefined> {
    for (const change of changes) {
      const id = deployed.get(change.logicalId)?.physicalId;
      if (!id) continue;
      const now = (await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0]?.AllocatedStorage;
      const reason = now === undefined ? undefined : storageRefusal(change, now);
      if (reason) return { logicalId: change.logicalId, reason };
    }
    return undefined;
  }

  /**
   * The storage CloudFormation's ModifyDBInstance sets (moto's stack keeps the instance's entry). Both values are sent, as
   * numbers, the unchanged ceiling as the template has it: moto's CloudFormation creates an instance without its
   * MaxAllocatedStorage (its ceiling then the AllocatedStorage, as the template's string), and with one of the two a
   * number and the other a string its DescribeDBInstances fails (comparing them: TypeError, an HTML 500).
   */
  async function applyStorage(changes: readonly StorageChange[], deployed: ReadonlyMap<string, DeployedResource>, c: Caller): Promise<void> {
    for (const change of changes) {
      const id = deployed.get(change.logicalId)?.physicalId;
      if (!id) continue;
      const now = (await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
      await c.rds.send(new ModifyDBInstanceCommand({
        DBInstanceIdentifier: id, AllocatedStorage: change.allocatedGiB ?? now?.AllocatedStorage,
        MaxAllocatedStorage: change.maxAllocatedGiB ?? change.templateMaxGiB ?? change.allocatedGiB ?? now?.AllocatedStorage, ApplyImmediately: true,
      }));
    }
  }

  /** moto's DeleteStack of `stackName`, after deleting what moto would leave among `deployed` (all but what moto retains). */
  async function deleteInMoto(stackName: string, template: CfnTemplate, deployed: readonly DeployedResource[], c: Caller): Promise<void> {
    const deleted = deployed.filter((r) => !RETAINED_BY_MOTO.includes(template.Resources[r.logicalId]?.DeletionPolicy ?? ''));
    await deleteWhatMotoLeaves(deleted, c.credentials, options.moto);
    await c.cfn.send(new DeleteStackCommand({ StackName: stackName }));
  }

  async function create(input: CreateStackCommandInput, c: Caller): Promise<{ StackId: string }> {
    const name = input.StackName!;
    const token = input.ClientRequestToken;
    // A stack of that name exists (emulated, or moto's): a retry of the request that created it (same token) gets its id, anything else AlreadyExists.
    const live = await stackIdOf(name, c);
    if (live) {
      if (token && tokens.get(live)?.create === token) return { StackId: live };
      throw awsError('AlreadyExistsException', `Stack [${name}] already exists`);
    }
    const event: typeof StackOverlay.event = (stack, e) => StackOverlay.event(stack, { ...e, token });
    if ((input.OnFailure && input.OnFailure !== 'ROLLBACK') || input.DisableRollback) throw new Error(`the CloudFormation emulation covers OnFailure ROLLBACK only (${name})`);
    const template = await templateOf(input);
    if (input.RoleARN) await checkRole(input.RoleARN, c);
    const parameters = parameterValues(input.Parameters);
    const values: Record<string, string> = { 'AWS::AccountId': c.account, 'AWS::Region': c.region, 'AWS::StackName': name, 'AWS::Partition': 'aws' };
    for (const [k, p] of Object.entries(template.Parameters ?? {})) if ((p as { Default?: unknown }).Default !== undefined) values[k] = String((p as { Default: unknown }).Default);
    Object.assign(values, parameters);
    checkDeclaredParameters(template, Object.keys(parameters));
    checkParameterValues(template, values);
    await checkZoneParameters(template, values, c);
    const named = namedResources(template, values);
    const existing = await namedResourcesExisting(named, c.credentials);

    let refusal: string | undefined;
    try {
      await c.cfn.send(new CreateStackCommand({ ...input, TemplateURL: undefined, TemplateBody: JSON.stringify(templateForMoto(template, parameters)) }));
    } catch (e) {
      // moto crashed on the template (a model of one of its resources raised: HTTP 500 and an HTML page, which the SDK
      // reports as "@aws-sdk XML parse error: mismatched tags <html>"): said as such, not as a refusal of a name.
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== undefined && status >= 500) throw new Error(`moto crashed on the CreateStack of ${name} (HTTP ${status}: its model of a resource of the template raised; the moto server's log has the traceback), its stack left CREATE_IN_PROGRESS; not an answer of AWS's: patch moto (support/moto-python/tessera_moto_patches.py) or leave the resource out`);
      refusal = motoMessage(e);
      // Another create of this name won the race since the check above (two onboardings deploying the shared
      // account baseline at once): AWS's answer, before any resource, and nothing of the winner's stack overwritten.
      if (refusal === `Stack ${name} already exists`) throw awsError('AlreadyExistsException', `Stack [${name}] already exists`);
    }
    const stackId = (await c.cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0].StackId!;
    tokens.set(stackId, { create: token });
    termination.set(stackId, input.EnableTerminationProtection === true);
    published.set(stackId, template);
    const injected = failures.get(name);
    failures.delete(name);
    if (!refusal && !injected) {
      await syncDatabaseProtection(name, template, values, c);
      applied.set(stackId, { template, parameters: withDefaults(template, parameters) });
      return { StackId: stackId };
    }

    // moto refused a name that exists: step the existing resources aside so that moto completes the stack.
    if (refusal && !existing.length) throw new Error(`moto refused the create of ${name} ("${refusal}") and the emulation cannot tell which resource: only "already exists" refusals of named resources are identified (named-resources.ts)`);
    if (refusal) for (const r of existing) await deleteNamedResource(r, c.credentials);
    const deployed = await listResources(name, c);
    const failed = injected ? [{ logicalId: injected.logicalId, reason: injected.reason }] : existing.map((r) => ({ logicalId: r.logicalId, reason: refusal! }));

    const stack: EmulatedStack = {
      stackId, stackName: name, status: 'ROLLBACK_COMPLETE', creationTime: new Date(), description: template.Description,
      parameters: input.Parameters, tags: input.Tags, roleArn: input.RoleARN, events: [],
    };
    const typeOf = (id: string) => template.Resources[id]?.Type ?? 'AWS::CloudFormation::Stack';
    const byId = new Map(deployed.map((r) => [r.logicalId, r]));
    event(stack, { status: 'CREATE_IN_PROGRESS', reason: 'User Initiated' });
    for (const f of failed) event(stack, { logicalId: f.logicalId, type: typeOf(f.logicalId), status: 'CREATE_FAILED', reason: f.reason });
    event(stack, { status: 'ROLLBACK_IN_PROGRESS', reason: `The following resource(s) failed to create: [${failed.map((f) => f.logicalId).join(', ')}]. Rollback requested by user.` });

    const retainExceptOnCreate = input.RetainExceptOnCreate === true;
    let plan = rollbackPlan({ template, retainExceptOnCreate, failed: new Set(failed.map((f) => f.logicalId)), createdInMoto: deployed.map((r) => r.logicalId), parameters: values });
    // failDelete: the rollback's deletion of that resource fails as a protected database's does (the rollback fails).
    const deleteFault = takeDeleteFailure(name, [...plan.deleted, ...plan.snapshot]);
    if (deleteFault) {
      const refused = [...plan.refused, deleteFault.logicalId];
      plan = {
        ...plan, refused, deleted: plan.deleted.filter((id) => id !== deleteFault.logicalId), snapshot: plan.snapshot.filter((id) => id !== deleteFault.logicalId),
        held: [...dependenciesOf(template, refused)].filter((id) => plan.created.includes(id) && !refused.includes(id)),
      };
    }
    for (const id of plan.survive) event(stack, { logicalId: id, type: typeOf(id), physicalId: byId.get(id)?.physicalId, status: 'DELETE_SKIPPED' });
    const snapshots: string[] = [];
    for (const id of plan.snapshot) if (typeOf(id) === 'AWS::RDS::DBInstance') snapshots.push(await snapshotDatabase(name, byId.get(id)!, c.credentials));
    const refused = plan.refused.map((id) => byId.get(id)!);
    if (refused.length) {
      for (const db of refused) {
        if (db.logicalId === deleteFault?.logicalId) {
          event(stack, { logicalId: db.logicalId, type: db.type, physicalId: db.physicalId, status: 'DELETE_FAILED', reason: deleteFault.reason });
          continue;
        }
        await protect(db.physicalId, c);
        event(stack, { logicalId: db.logicalId, type: db.type, physicalId: db.physicalId, status: 'DELETE_FAILED', reason: `Resource handler returned message: "${PROTECTED_DB_MESSAGE}"` });
      }
      // The rest of the rollback went ahead: what moto would retain of what the refused resources do
      // not hold is deleted now (a re-run needs its names); moto deletes the others with the stack.
      const reached = [...plan.deleted, ...plan.snapshot].filter((id) => !plan.held.includes(id));
      for (const id of reached) {
        if (RETAINED_BY_MOTO.includes(template.Resources[id]?.DeletionPolicy ?? '')) await deleteResource(name, byId.get(id)!, c.credentials, c.region);
        if (plan.created.includes(id)) event(stack, { logicalId: id, type: typeOf(id), physicalId: byId.get(id)?.physicalId, status: 'DELETE_COMPLETE' });
      }
      stack.status = 'ROLLBACK_FAILED';
      stack.reason = `The following resource(s) failed to delete: [${refused.map((r) => r.logicalId).join(', ')}]. `;
    } else {
      await deleteInMoto(name, template, deployed, c);
      // moto kept what its copy calls Retain: delete what the rollback deletes of it.
      for (const id of [...plan.deleted, ...plan.snapshot]) {
        if (RETAINED_BY_MOTO.includes(template.Resources[id]?.DeletionPolicy ?? '')) await deleteResource(name, byId.get(id)!, c.credentials, c.region);
      }
      for (const id of [...plan.snapshot, ...plan.deleted].filter((x) => plan.created.includes(x))) {
        event(stack, { logicalId: id, type: typeOf(id), physicalId: byId.get(id)?.physicalId, status: 'DELETE_COMPLETE' });
      }
    }
    // What existed before this operation exists after it.
    if (refusal) for (const r of existing) if (!(await namedResourceExists(r, c.credentials))) await createNamedResource(r, c.credentials);
    // A ROLLBACK_FAILED stack still holds the refused resources and what they depend on.
    const finalStatus = (id: string) => (plan.survive.includes(id) ? 'DELETE_SKIPPED' : plan.refused.includes(id) ? 'DELETE_FAILED' : plan.held.includes(id) ? 'CREATE_COMPLETE' : 'DELETE_COMPLETE');
    stack.summaries = deployed.map((r) => summary(r, finalStatus(r.logicalId)));
    event(stack, { status: stack.status, reason: stack.reason });
    overlay.set(c.account, stack);
    rollbacks.push({
      stackName: name, account: c.account, retainExceptOnCreate, plan, snapshots, resources: deployed, status: stack.status as RollbackRecord['status'],
      failure: { logicalId: failed[0].logicalId, reason: failed[0].reason, injected: !!injected },
    });
    return { StackId: stackId };
  }

  async function update(input: UpdateStackCommandInput, c: Caller): Promise<{ StackId: string }> {
    const emulated = overlay.get(c.account, input.StackName!);
    if (emulated) throw awsError('ValidationError', `Stack:${emulated.stackId} is in ${emulated.status} state and can not be updated.`);
    const stack = (await c.cfn.send(new DescribeStacksCommand({ StackName: input.StackName }))).Stacks![0];
    // A retry of the stack's last update (same token): that update's answer, no new operation.
    if (input.ClientRequestToken && tokens.get(stack.StackId!)?.update === input.ClientRequestToken) return { StackId: stack.StackId! };
    const current = await storedTemplate(input.StackName!, c);
    const previous = applied.get(stack.StackId!);
    if (input.UsePreviousTemplate && (input.TemplateBody || input.TemplateURL)) throw awsError('ValidationError', 'You cannot specify both usePreviousTemplate and Template Body/Template URL');
    const template = input.UsePreviousTemplate ? (previous?.template ?? current) : await templateOf(input);
    if (input.RoleARN) await checkRole(input.RoleARN, c);
    // AWS: UsePreviousValue takes the value last applied; a parameter left out takes its default.
    const before = previous?.parameters ?? parameterValues(stack.Parameters);
    const given: Record<string, string> = {};
    for (const p of input.Parameters ?? []) {
      if (!p.UsePreviousValue) given[p.ParameterKey!] = p.ParameterValue ?? '';
      else if (before[p.ParameterKey!] !== undefined) given[p.ParameterKey!] = before[p.ParameterKey!];
      else throw awsError('ValidationError', `Invalid input for parameter key ${p.ParameterKey}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`);
    }
    checkDeclaredParameters(template, (input.Parameters ?? []).map((p: Parameter) => p.ParameterKey!));
    const values = withDefaults(template, given);
    checkParameterValues(template, values);
    await checkZoneParameters(template, values, c);
    const body = templateForMoto(template, given);
    const same = <T>(a: T[] | undefined, b: T[] | undefined, key: (x: T) => string) => JSON.stringify((a ?? []).map(key).sort()) === JSON.stringify((b ?? []).map(key).sort());
    const unchanged = previous
      ? JSON.stringify(previous.template) === JSON.stringify(template) && sameValues(previous.parameters, values)
      : JSON.stringify(current) === JSON.stringify(body) && same(input.Parameters, awsParameters(stack.Parameters), (p) => `${p.ParameterKey}=${p.ParameterValue}`);
    if (unchanged && (input.Tags === undefined || same(input.Tags, stack.Tags, (t) => `${t.Key}=${t.Value}`))) {
      throw awsError('ValidationError', 'No updates are to be performed.');
    }
    // Resources moto cannot update keep their entry (moto would drop them): AWS updates them in place.
    const deployed = new Map((await listResources(input.StackName!, c)).map((r) => [r.logicalId, r]));
    for (const [id, resource] of Object.entries(body.Resources)) {
      const was = current.Resources[id];
      if (!was || was.Type !== resource.Type || JSON.stringify(was) === JSON.stringify(resource)) continue;
      if (!options.moto.updates(resource.Type)) body.Resources[id] = was;
      // moto's bucket update tags the bucket by the BucketName property, which a generated name lacks (KeyError: 'BucketName').
      else if (resource.Type === 'AWS::S3::Bucket' && resource.Properties?.BucketName === undefined && deployed.get(id)?.physicalId) {
        body.Resources[id] = { ...resource, Properties: { ...resource.Properties, BucketName: deployed.get(id)!.physicalId } };
      }
    }
    // moto also "updates" a resource whose entry is unchanged but refers to a changed parameter: the same loss.
    const changed = Object.keys(values).filter((k) => before[k] !== values[k]);
    const dropped = Object.entries(body.Resources).filter(([id, r]) => current.Resources[id] && !options.moto.updates(r.Type) && changed.some((k) => JSON.stringify(r).includes(`{"Ref":"${k}"}`)));
    if (dropped.length) throw new Error(`moto would drop ${dropped.map(([id, r]) => `${id} (${r.Type})`).join(', ')} on this update (a changed parameter it refers to, and no moto update for its type); the emulation cannot update it in place`);
    // A DB instance's storage the template changes: RDS judges it against the instance as it is (rds-storage-updates.ts).
    const storage = storageChanges(previous?.template ?? current, template);
    const refusedStorage = await storageFailure(storage, deployed, c);
    const injected = updateFailures.get(input.StackName!) ?? refusedStorage;
    if (injected) {
      // failUpdate, or RDS refusing the storage: the update fails at the resource and rolls back; moto's stack is left as it was.
      updateFailures.delete(input.StackName!);
      const rolled = { stackId: stack.StackId!, stackName: stack.StackName!, reason: `The following resource(s) failed to update: [${injected.logicalId}]. `, events: [] as StackEvent[] };
      const at = (e: Parameters<typeof StackOverlay.event>[1]) => StackOverlay.event(rolled, { ...e, token: input.ClientRequestToken });
      at({ status: 'UPDATE_IN_PROGRESS', reason: 'User Initiated' });
      at({ logicalId: injected.logicalId, type: template.Resources[injected.logicalId]?.Type, physicalId: deployed.get(injected.logicalId)?.physicalId, status: 'UPDATE_FAILED', reason: injected.reason });
      at({ status: 'UPDATE_ROLLBACK_IN_PROGRESS', reason: rolled.reason });
      at({ status: 'UPDATE_ROLLBACK_COMPLETE' });
      rolledBackUpdates.set(stack.StackId!, rolled);
      tokens.set(stack.StackId!, { ...tokens.get(stack.StackId!), update: input.ClientRequestToken });
      return { StackId: stack.StackId! };
    }
    rolledBackUpdates.delete(stack.StackId!);
    const removed = [...deployed.values()].filter((r) => !template.Resources[r.logicalId] && !RETAINED_BY_MOTO.includes(current.Resources[r.logicalId]?.DeletionPolicy ?? ''));
    await deleteWhatMotoLeaves(removed, c.credentials, options.moto);
    const out = await c.cfn.send(new UpdateStackCommand({
      ...input, UsePreviousTemplate: undefined, TemplateURL: undefined, TemplateBody: JSON.stringify(body),
      Parameters: Object.entries(given).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
      RoleARN: input.RoleARN ?? stack.RoleARN,
    }));
    await syncDatabaseProtection(input.StackName!, template, values, c);
    await applyStorage(storage, deployed, c);
    applied.set(stack.StackId!, { template, parameters: values });
    published.set(stack.StackId!, template);
    tokens.set(stack.StackId!, { ...tokens.get(stack.StackId!), update: input.ClientRequestToken });
    return { StackId: out.StackId! };
  }

  /** The stack id of `nameOrId` in the caller's account; undefined when there is no such stack. */
  async function stackIdOf(nameOrId: string, c: Caller): Promise<string | undefined> {
    const emulated = overlay.get(c.account, nameOrId);
    if (emulated) return emulated.stackId;
    try {
      return (await c.cfn.send(new DescribeStacksCommand({ StackName: nameOrId }))).Stacks?.[0]?.StackId;
    } catch (e) {
      if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return undefined;
      throw e;
    }
  }

  /** The name of the live stack (moto's) whose id is `stackId`; undefined when that stack is deleted or unknown. */
  async function liveStackNamed(stackId: string, c: Caller): Promise<string | undefined> {
    try {
      const stack = (await c.cfn.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0];
      return stack && stack.StackStatus !== 'DELETE_COMPLETE' ? stack.StackName : undefined;
    } catch (e) {
      if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return undefined;
      throw e;
    }
  }

  async function remove(input: { StackName?: string; RoleARN?: string; ClientRequestToken?: string }, c: Caller): Promise<Record<string, never>> {
    if (input.RoleARN) await checkRole(input.RoleARN, c);
    const emulated = overlay.get(c.account, input.StackName!);
    // By stack id (an ARN), AWS deletes that stack only: one deleted already, another created under its name since, is
    // left alone (the call succeeds, nothing happens). moto's own DeleteStack does so too; the rest of this emulation
    // (listResources, the injected failures, the tokens) works by name, so the id is turned into the live stack's name.
    const named = emulated || !input.StackName!.startsWith('arn:') ? undefined : await liveStackNamed(input.StackName!, c);
    if (!emulated && input.StackName!.startsWith('arn:') && !named) return {};
    const stackName = emulated?.stackName ?? named ?? input.StackName!;
    const id = await stackIdOf(stackName, c);
    const token = input.ClientRequestToken;
    // A retry of the stack's last delete (same token): that delete's answer, no new operation.
    if (id && token && tokens.get(id)?.delete === token) return {};
    if (id && termination.get(id)) throw awsError('ValidationError', `Stack [${stackName}] cannot be deleted while TerminationProtection is enabled`);
    if (id) tokens.set(id, { ...tokens.get(id), delete: token });
    const event: typeof StackOverlay.event = (stack, e) => StackOverlay.event(stack, { ...e, token });
    if (emulated?.status === 'ROLLBACK_COMPLETE') {
      deletedStacks.set(emulated.stackId, emulated.summaries ?? []);
      deletedEvents.set(emulated.stackId, deletionEvents(emulated, [], token));
      overlay.delete(c.account, stackName);
      return {};
    }
    let deployed: DeployedResource[];
    try {
      deployed = await listResources(stackName, c);
    } catch (e) {
      if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return {}; // AWS: deleting a stack that is not there succeeds
      throw e;
    }
    const databases = deployed.filter((r) => r.type === 'AWS::RDS::DBInstance');
    const state = async (db: DeployedResource) => (await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: db.physicalId }))).DBInstances?.[0];
    const blocked: Array<DeployedResource & { reason?: string }> = [];
    for (const db of databases) if ((await state(db))?.DeletionProtection) blocked.push(db);
    const deleteFault = takeDeleteFailure(stackName, deployed.map((r) => r.logicalId));
    if (deleteFault) blocked.push({ ...deployed.find((r) => r.logicalId === deleteFault.logicalId)!, reason: deleteFault.reason });
    if (id) rolledBackUpdates.delete(id);
    if (blocked.length) {
      // A stack moto holds keeps what DescribeStacks answered for it (its tags name the tenant: ownership is checked on them).
      const moto = emulated ? undefined : (await c.cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks![0];
      const stackId = emulated?.stackId ?? moto!.StackId!;
      const failed: EmulatedStack = emulated ?? {
        stackId, stackName, status: 'DELETE_FAILED', creationTime: moto!.CreationTime ?? new Date(), description: moto!.Description,
        parameters: awsParameters(moto!.Parameters), tags: moto!.Tags, roleArn: moto!.RoleARN, events: [],
      };
      failed.deletionTime = new Date();
      event(failed, { status: 'DELETE_IN_PROGRESS', reason: 'User Initiated' });
      for (const db of blocked) event(failed, { logicalId: db.logicalId, type: db.type, physicalId: db.physicalId, status: 'DELETE_FAILED', reason: db.reason ?? `Resource handler returned message: "${PROTECTED_DB_MESSAGE}"` });
      failed.status = 'DELETE_FAILED';
      failed.reason = `The following resource(s) failed to delete: [${blocked.map((b) => b.logicalId).join(', ')}]. `;
      event(failed, { status: 'DELETE_FAILED', reason: failed.reason });
      overlay.set(c.account, failed);
      return {};
    }
    const stored = await storedTemplate(stackName, c);
    for (const db of databases) {
      if ((stored.Resources[db.logicalId]?.DeletionPolicy ?? 'Snapshot') === 'Snapshot' && (await state(db))) await snapshotDatabase(stackName, db, c.credentials);
    }
    const stackId = emulated?.stackId ?? (await c.cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks![0].StackId!;
    await deleteInMoto(stackName, stored, deployed, c);
    // Deleted earlier by the rollback of a ROLLBACK_FAILED stack stays deleted; the rest as their policy says.
    const earlier = new Map((emulated?.summaries ?? []).map((r) => [r.LogicalResourceId, r.ResourceStatus]));
    const finalStatus = (r: DeployedResource) => earlier.get(r.logicalId) === 'DELETE_COMPLETE' || !RETAINED_BY_MOTO.includes(stored.Resources[r.logicalId]?.DeletionPolicy ?? '') ? 'DELETE_COMPLETE' : 'DELETE_SKIPPED';
    deletedStacks.set(stackId, deployed.map((r) => summary(r, finalStatus(r))));
    if (emulated) deletedEvents.set(stackId, deletionEvents(emulated, deletedStacks.get(stackId)!, token));
    overlay.delete(c.account, stackName);
    applied.delete(stackId);
    return {};
  }

  /** An emulated stack's events once deleted: its own, then the deletion's (what it skipped, then DELETE_COMPLETE), newest first. */
  function deletionEvents(stack: EmulatedStack, final: readonly StackResourceSummary[], token: string | undefined): StackEvent[] {
    const copy = { stackId: stack.stackId, stackName: stack.stackName, events: [...stack.events] };
    StackOverlay.event(copy, { status: 'DELETE_IN_PROGRESS', reason: 'User Initiated', token });
    for (const r of final) if (r.ResourceStatus === 'DELETE_SKIPPED') StackOverlay.event(copy, { logicalId: r.LogicalResourceId, type: r.ResourceType, physicalId: r.PhysicalResourceId, status: 'DELETE_SKIPPED', token });
    StackOverlay.event(copy, { status: 'DELETE_COMPLETE', token });
    return copy.events;
  }

  /** CreateChangeSet (UPDATE): the request recorded, its changes against what was last applied (see the module comment). */
  async function createChangeSet(input: Record<string, any>, c: Caller): Promise<{ Id: string; StackId: string }> {
    if ((input.ChangeSetType ?? 'UPDATE') !== 'UPDATE') throw awsError('ValidationError', `the emulation supports UPDATE change sets only, not ${input.ChangeSetType}`);
    const key = `${c.account}/${input.StackName}/${input.ChangeSetName}`;
    if (changeSets.has(key)) throw awsError('AlreadyExistsException', `ChangeSet ${input.ChangeSetName} already exists`);
    // AWS refuses a change set on a stack that cannot be updated (ROLLBACK_COMPLETE, ROLLBACK_FAILED, DELETE_FAILED), as UpdateStack.
    const emulated = overlay.get(c.account, input.StackName);
    if (emulated) throw awsError('ValidationError', `Stack:${emulated.stackId} is in ${emulated.status} state and can not be updated.`);
    const stack = (await c.cfn.send(new DescribeStacksCommand({ StackName: input.StackName }))).Stacks![0];
    const template = await templateOf(input);
    const previous = applied.get(stack.StackId!);
    const current = previous?.template ?? (await storedTemplate(input.StackName, c));
    const before = previous?.parameters ?? parameterValues(stack.Parameters);
    const given = Object.fromEntries((input.Parameters ?? []).map((p: Parameter) => [p.ParameterKey!, p.UsePreviousValue ? before[p.ParameterKey!] : p.ParameterValue ?? '']));
    checkDeclaredParameters(template, (input.Parameters ?? []).map((p: Parameter) => p.ParameterKey!));
    const values = withDefaults(template, given);
    checkParameterValues(template, values);
    await checkZoneParameters(template, values, c);
    const changes: EmulatedChangeSet['changes'] = [];
    const ids = new Set([...Object.keys(current.Resources), ...Object.keys(template.Resources)]);
    for (const id of ids) {
      const was = current.Resources[id];
      const now = template.Resources[id];
      if (was && now && JSON.stringify(was) === JSON.stringify(now)) continue;
      const Action = !was ? 'Add' : !now ? 'Remove' : 'Modify';
      const recreated = Action === 'Modify' ? createOnlyChanges(was, now) : [];
      const replacement = recreated.length ? { Replacement: 'True', Details: recreated.map((Name) => ({ Target: { Attribute: 'Properties', Name, RequiresRecreation: 'Always' }, Evaluation: 'Static', ChangeSource: 'DirectModification' })) } : { Replacement: 'False' };
      changes.push({ Type: 'Resource', ResourceChange: { Action, LogicalResourceId: id, ResourceType: (now ?? was).Type, ...(Action === 'Modify' ? replacement : {}) } });
    }
    const sameTags = JSON.stringify((input.Tags ?? stack.Tags ?? []).map((t: { Key: string; Value: string }) => `${t.Key}=${t.Value}`).sort()) === JSON.stringify((stack.Tags ?? []).map((t) => `${t.Key}=${t.Value}`).sort());
    const empty = changes.length === 0 && sameValues(before, values) && sameTags;
    const id = `arn:aws:cloudformation:${c.region}:${c.account}:changeSet/${input.ChangeSetName}/${randomUUID()}`;
    const { ChangeSetName: _n, ChangeSetType: _t, ClientToken: _k, Description: _d, DeploymentMode: _m, ...request } = input;
    changeSets.set(key, {
      id, stackId: stack.StackId!, request: request as UpdateStackCommandInput, changes,
      status: empty ? 'FAILED' : 'CREATE_COMPLETE', executionStatus: empty ? 'UNAVAILABLE' : 'AVAILABLE',
      ...(empty ? { statusReason: 'The submitted information didn\'t contain changes. Submit different information to create a change set.' } : {}),
    });
    return { Id: id, StackId: stack.StackId! };
  }

  function changeSetOf(input: { StackName?: string; ChangeSetName?: string }, c: Caller): EmulatedChangeSet {
    const found = changeSets.get(`${c.account}/${input.StackName}/${input.ChangeSetName}`);
    if (!found) throw awsError('ChangeSetNotFoundException', `ChangeSet [${input.ChangeSetName}] does not exist`);
    return found;
  }

  type Output = { output: Record<string, unknown> };
  const handlers: Record<string, (input: any, c: Caller, next: () => Promise<Output>) => Promise<Output>> = {
    CreateStackCommand: async (input, c) => ({ output: { ...(await create(input, c)), $metadata: {} } }),
    UpdateStackCommand: async (input, c) => ({ output: { ...(await update(input, c)), $metadata: {} } }),
    DeleteStackCommand: async (input, c) => ({ output: { ...(await remove(input, c)), $metadata: {} } }),
    CreateChangeSetCommand: async (input, c) => ({ output: { ...(await createChangeSet(input, c)), $metadata: {} } }),
    DescribeChangeSetCommand: async (input, c) => {
      const cs = changeSetOf(input, c);
      return { output: {
        ChangeSetId: cs.id, ChangeSetName: input.ChangeSetName, StackId: cs.stackId, StackName: input.StackName, Status: cs.status,
        ExecutionStatus: cs.executionStatus, StatusReason: cs.statusReason, Changes: cs.changes, $metadata: {},
      } };
    },
    ExecuteChangeSetCommand: async (input, c) => {
      const cs = changeSetOf(input, c);
      if (cs.executionStatus === 'EXECUTE_COMPLETE') return { output: { $metadata: {} } };
      if (cs.executionStatus !== 'AVAILABLE') throw awsError('InvalidChangeSetStatus', `ChangeSet [${cs.id}] cannot be executed in its current status of [${cs.status}]`);
      try {
        await update({ ...cs.request, ClientRequestToken: input.ClientRequestToken, ...(input.RetainExceptOnCreate !== undefined ? { RetainExceptOnCreate: input.RetainExceptOnCreate } : {}) }, c);
      } catch (e) {
        // Only the tags or parameter defaults differed from what moto reports: nothing for moto to do.
        if (!/No updates are to be performed/.test((e as Error).message)) throw e;
      }
      cs.executionStatus = 'EXECUTE_COMPLETE';
      return { output: { $metadata: {} } };
    },
    DeleteChangeSetCommand: async (input, c) => {
      changeSetOf(input, c);
      changeSets.delete(`${c.account}/${input.StackName}/${input.ChangeSetName}`);
      return { output: { $metadata: {} } };
    },
    DescribeStacksCommand: async (input, c, next) => {
      const emulated = input.StackName ? overlay.get(c.account, input.StackName) : undefined;
      const out = emulated ? { output: { Stacks: [StackOverlay.describe(emulated)], $metadata: {} } } : await next();
      for (const s of (out.output.Stacks ?? []) as Array<{ StackId?: string; EnableTerminationProtection?: boolean; Parameters?: Parameter[] }>) {
        if (s.StackId && termination.has(s.StackId)) s.EnableTerminationProtection = termination.get(s.StackId);
        const rolled = s.StackId && !emulated ? rolledBackUpdates.get(s.StackId) : undefined;
        if (rolled) Object.assign(s, { StackStatus: 'UPDATE_ROLLBACK_COMPLETE', StackStatusReason: rolled.reason });
        if (s.Parameters) s.Parameters = awsParameters(s.Parameters);
      }
      return out;
    },
    // A stack moto lists as standing that is DELETE_FAILED or ROLLBACK_FAILED here, or whose update rolled back (failUpdate),
    // is listed with that status, as AWS lists it (filtered again by StackStatusFilter).
    ListStacksCommand: async (input, c, next) => {
      const out = await next();
      const summaries = (out.output.StackSummaries ?? []) as Array<{ StackId?: string; StackStatus?: string; StackStatusReason?: string }>;
      for (const s of summaries) {
        if (!s.StackId || s.StackStatus === 'DELETE_COMPLETE') continue;
        const emulated = overlay.get(c.account, s.StackId);
        const rolled = rolledBackUpdates.get(s.StackId);
        if (emulated && emulated.stackId === s.StackId) Object.assign(s, { StackStatus: emulated.status, StackStatusReason: emulated.reason });
        else if (rolled) Object.assign(s, { StackStatus: 'UPDATE_ROLLBACK_COMPLETE', StackStatusReason: rolled.reason });
      }
      const wanted = input.StackStatusFilter as string[] | undefined;
      return { output: { ...out.output, StackSummaries: wanted?.length ? summaries.filter((s) => wanted.includes(s.StackStatus ?? '')) : summaries } };
    },
    UpdateTerminationProtectionCommand: async (input, c) => {
      // By stack id (an ARN): that stack only. One deleted already (DELETE_COMPLETE, which moto's DescribeStacks still
      // answers by its id) is refused as a stack that does not exist; moto took it for a live one and recorded the lift.
      const deleted = input.StackName!.startsWith('arn:') && !overlay.get(c.account, input.StackName!) && !(await liveStackNamed(input.StackName!, c));
      const id = deleted ? undefined : await stackIdOf(input.StackName!, c);
      if (!id) throw awsError('ValidationError', `Stack [${input.StackName}] does not exist`);
      termination.set(id, input.EnableTerminationProtection === true);
      return { output: { StackId: id, $metadata: {} } };
    },
    ListStackResourcesCommand: async (input, c, next) => {
      const deleted = deletedStacks.get(input.StackName);
      const emulated = input.StackName ? overlay.get(c.account, input.StackName) : undefined;
      const summaries = deleted ?? emulated?.summaries;
      if (summaries) return { output: { StackResourceSummaries: summaries, $metadata: {} } };
      const out = await next();
      return { output: { ...out.output, StackResourceSummaries: listedByAws(out.output.StackResourceSummaries as StackResourceSummary[] | undefined) } };
    },
    GetTemplateCommand: async (input, c, next) => {
      const id = published.has(input.StackName) ? input.StackName : await stackIdOf(input.StackName, c).catch(() => undefined);
      const template = id ? published.get(id) : undefined;
      return template ? { output: { TemplateBody: JSON.stringify(template), StagesAvailable: ['Original', 'Processed'], $metadata: {} } } : next();
    },
    DescribeStackEventsCommand: async (input, c, next) => {
      const gone = deletedEvents.get(input.StackName);
      if (gone) return { output: { StackEvents: gone, $metadata: {} } };
      const emulated = input.StackName ? overlay.get(c.account, input.StackName) : undefined;
      if (!emulated && rolledBackUpdates.size) {
        const id = await stackIdOf(input.StackName, c).catch(() => undefined);
        const rolled = id ? rolledBackUpdates.get(id) : undefined;
        if (rolled) {
          const out = await next();
          return { output: { ...out.output, StackEvents: [...rolled.events, ...((out.output.StackEvents ?? []) as StackEvent[])] } };
        }
      }
      if (!emulated) return next();
      const moto = emulated.status === 'ROLLBACK_COMPLETE' ? [] : ((await c.cfn.send(new DescribeStackEventsCommand({ StackName: emulated.stackName })).catch(() => undefined))?.StackEvents ?? []);
      return { output: { StackEvents: [...emulated.events, ...moto], $metadata: {} } };
    },
  };

  const uninstall = registerClientPlugin((client) => {
    const config = (client as unknown as { config: { credentials: () => Promise<AwsCredentialIdentity>; region: () => Promise<string> } }).config;
    const stack = client.middlewareStack as unknown as { add(m: unknown, o: Record<string, unknown>): void };
    stack.add(
      (next: (args: { input: Record<string, unknown> }) => Promise<Output>, context: { clientName?: string; commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
        if (context.clientName === 'STSClient' && context.commandName === 'AssumeRoleCommand') {
          const out = await next(args);
          const answer = out.output as { Credentials?: { AccessKeyId?: string }; AssumedRoleUser?: { Arn?: string } };
          const account = /^arn:aws:sts::(\d{12}):assumed-role\//.exec(answer.AssumedRoleUser?.Arn ?? '')?.[1];
          if (answer.Credentials?.AccessKeyId && account) accounts.set(answer.Credentials.AccessKeyId, account);
          return out;
        }
        const handler = context.clientName === 'CloudFormationClient' ? handlers[context.commandName ?? ''] : undefined;
        if (!handler) return next(args);
        return handler(args.input, await caller(await config.credentials(), await config.region()), () => next(args));
      },
      { step: 'initialize', priority: 'low', name: 'tesseraCloudFormationEmulation', override: true },
    );
  });

  return {
    failCreate: (stackName, logicalId, reason) => void failures.set(stackName, { logicalId, reason }),
    failDelete: (stackName, logicalId, reason, times = 1) => void deleteFailures.set(stackName, { logicalId, reason, times }),
    failUpdate: (stackName, logicalId, reason) => void updateFailures.set(stackName, { logicalId, reason }),
    rollbacks,
    uninstall,
  };
}

/**
 * ListStackResources' summaries as AWS lists them: moto 5.2.5 answers a resource whose `Condition` is false (never
 * created: the account baseline's customizations role and boundary in an account without customizations) as an entry
 * with no logical id, type or physical id, which AWS does not list; such an entry read as a resource made every update
 * of the stack fail here ("cannot delete ,", a removed resource of no type).
 */
function listedByAws(summaries: readonly StackResourceSummary[] | undefined): StackResourceSummary[] {
  return (summaries ?? []).filter((r) => r.LogicalResourceId);
}
