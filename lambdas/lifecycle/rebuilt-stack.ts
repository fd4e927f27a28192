import { CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { DescribeDBInstancesCommand, RDSClient, type DBInstance } from '@aws-sdk/client-rds';
import { restoredDatabaseStackName } from '../../lib/cli/failover-restored-database.js';
import { failoverRetainedResources, failoverRetainedText } from '../../lib/failover-retained-resources.js';
import { drRestoredInstanceIdentifier } from '../../lib/tenant-naming.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { clientWith } from '../shared/aws-clients.js';
import { platformConfig } from '../shared/environment.js';
import { TenantRebuiltInDrRegionError } from '../shared/errors.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { describeStack, stackName } from './blueprints.js';

/**
 * One thing the failover runbook creates in the tenant's DR region (docs/resilience.md, `tessera tenants failover-plan`),
 * found there: step 5's stack `tessera-<id>` (the failover blueprint, under the tenant stack's own name), step 7's stack
 * `tessera-<id>-restored` (lib/cli/failover-restored-database.ts restoredDatabaseStackName), or the DB instance
 * `tessera-<id>-restored` step 6 restores the tenant database into (lib/tenant-naming.ts drRestoredInstanceIdentifier),
 * which step 7's stack imports and keeps when deleted (DeletionPolicy Retain).
 */
export interface DrRebuildResource {
  /** `stack` (a CloudFormation stack) or `instance` (an RDS DB instance). */
  readonly kind: 'stack' | 'instance';
  /** The stack name or the DB instance identifier. */
  readonly name: string;
  /** Its status as DescribeStacks (`StackStatus`: any but DELETE_COMPLETE) or DescribeDBInstances (`DBInstanceStatus`) answers it. */
  readonly status: string;
}

/** A tenant rebuilt, or partly rebuilt, in its DR region by the failover runbook: what of the rebuild is there, and where. */
export interface DrRebuild {
  /** The DR region (the record's `disasterRecovery.region`). */
  readonly region: string;
  /**
   * What was found, never empty, in the runbook's order: stack `tessera-<id>`, stack `tessera-<id>-restored`, DB instance
   * `tessera-<id>-restored` (each only when it exists).
   */
  readonly found: readonly DrRebuildResource[];
  /** Whether stack `tessera-<id>` is among them (the tenant runs from it); without it the rebuild is half done or half removed. */
  readonly rebuiltStack: boolean;
  /** The `VpcCidr` parameter of stack `tessera-<id>`: the range its VPC uses (the runbook passes the tenant's). @default - absent when that stack is absent or has none */
  readonly vpcCidr?: string;
  /** The `KeyArn` and `BucketName` outputs of stack `tessera-<id>`, which name the key and tenant bucket it keeps when deleted. @default - absent when that stack is absent or has none */
  readonly outputs?: { readonly keyArn?: string; readonly bucketName?: string };
}

/** The SDK error names of a call IAM (or an SCP) refused. */
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'AuthorizationError', 'UnauthorizedOperation']);

/**
 * Runs `read`, one look-up of the DR rebuild; a failure is rethrown as the same error (its name and class kept, so the
 * workflows' retries of throttling and transient errors still apply) with a message that names the call, the resource,
 * the region, the account and the role, that nothing was changed, and, for a refusal by IAM, the grant to add.
 */
async function lookUp<T>(record: TenantRecord, region: string, call: string, resource: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    const err = e as Error;
    const role = platformConfig().roles.provisioningRoleName;
    const way = ACCESS_DENIED.has(err.name)
      ? `allow the role ${call} on ${resource} in ${region} (in the shared workload account: deploy the workload provisioning template of this release, whose DisasterRecovery policy grants it), then run the operation again`
      : 'run the operation again once the cause is removed';
    err.message = `could not look for tenant ${record.tenantId}'s rebuild in its DR region ${region}, so the operation was refused before anything changed: `
      + `${call} of ${resource} as the provisioning role ${role} of account ${record.accountId} failed (${err.name}: ${err.message}). `
      + `Without it the lifecycle cannot tell whether the failover runbook left the tenant's data in ${region}; ${way}`;
    throw err;
  }
}

/**
 * The refusal of a look-up in a DR region the platform's `allowedRegions` no longer lists (taken out since the tenant's
 * DR stack was made there; the config then moved its tier's DR region elsewhere or to `none`): the guardrail SCP
 * (`DenyOutsideAllowedRegions`, lib/guardrail-policies.ts) denies every call there, so the look-up cannot be made, nor
 * the DR stack (its bucket, vault and key) deleted. Thrown before any call: the call's AccessDenied said to grant the
 * provisioning role DescribeStacks, which no IAM grant can fix (an SCP's deny wins), and the offboarding could never
 * end. Named `DrRegionNotAllowed` (not retried by the workflows).
 */
function drRegionNotAllowed(record: TenantRecord, region: string, allowed: readonly string[]): Error {
  return Object.assign(new Error(
    `tenant ${record.tenantId}'s DR region ${region} (disasterRecovery.region, its DR stack ${record.disasterRecovery?.stackName ?? stackName(record.tenantId, 'dr')} ${record.disasterRecovery?.status ?? ''}) is not in allowedRegions (${allowed.join(', ')}): `
    + `the guardrail SCP DenyOutsideAllowedRegions denies every call there, so the lifecycle can neither look for the failover runbook's rebuild there nor delete what the tenant keeps there; `
    + `the operation was refused before anything changed. Add ${region} to allowedRegions and deploy it (TesseraOrganization's guardrail SCP, and TesseraPlatform), run the operation again, and take it out again once this tenant is offboarded`,
  ), { name: 'DrRegionNotAllowed' });
}

/** The DB instance `id`, or undefined when RDS answers DBInstanceNotFound. */
async function describeInstance(rds: RDSClient, id: string): Promise<DBInstance | undefined> {
  try {
    return (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
  } catch (e) {
    if ((e as Error).name === 'DBInstanceNotFoundFault') return undefined;
    throw e;
  }
}

/**
 * What the failover runbook made of the tenant in its DR region (docs/resilience.md, `tessera tenants failover-plan` steps
 * 5-8), whole or in part: stack `tessera-<id>` (the tier's failover blueprint under the tenant stack's own name), stack
 * `tessera-<id>-restored` and DB instance `tessera-<id>-restored` (the restored database, which that stack keeps when
 * deleted), in the tenant's DR region (`disasterRecovery.region`, kept on the record after the DR stack is REMOVED) of the
 * tenant's account (the shared workload account for VPC isolation). A half-done rebuild (steps 6-7 run, step 5's stack
 * deleted or never made) or a half-removed one (the stacks deleted, the retained instance left) still holds the tenant's
 * data there, which no step of the offboarding deletes: each of the three counts alone.
 *
 * Read as the account's provisioning role in that region (as *Delete tenant stacks* reads the DR stack): DescribeStacks of
 * both stacks, DescribeDBInstances of the instance. In an account of its own that is the role the organization created;
 * in the workload account its DisasterRecovery policy: `TesseraFailoverStacksDrift` (DescribeStacks on `stack/tessera-*`
 * of each DR region) and `RebuiltTenantRestoredInstances` (DescribeDBInstances on `db:tessera-*-restored` of each DR
 * region). Any stack or instance of those names counts, whoever made it: the runbook makes them by hand, untagged by the
 * lifecycle.
 * @param step - the session name's step (`offboard`, `change`, `delete`)
 * @returns undefined when the record names no account or no DR region, or none of the three exists (a stack
 * DELETE_COMPLETE counts as gone)
 * @throws what CloudFormation, RDS or STS throws other than "does not exist" / DBInstanceNotFound (AccessDenied,
 * throttling), with the message saying what was read, as whom and where, and the way on (lookUp): the step fails, or is
 * retried, with nothing changed
 */
export async function drRebuildOf(record: TenantRecord, step: string): Promise<DrRebuild | undefined> {
  const region = record.disasterRecovery?.region;
  if (!record.accountId || !region) return undefined;
  const allowed = platformConfig().allowedRegions;
  if (!allowed.includes(region)) throw drRegionNotAllowed(record, region, allowed);
  const id = record.tenantId;
  const credentials = await tenantAccountCredentials(record.accountId, id, step);
  const cfn = clientWith(CloudFormationClient, credentials, { region });
  const rds = clientWith(RDSClient, credentials, { region });
  const stackOf = (name: string) => lookUp(record, region, 'cloudformation:DescribeStacks', `stack ${name}`, () => describeStack(cfn, name))
    .then((s): Stack | undefined => (s && s.StackStatus !== 'DELETE_COMPLETE' ? s : undefined));
  const primaryName = stackName(id, 'tenant');
  const restoredStackName = restoredDatabaseStackName(id);
  const instanceId = drRestoredInstanceIdentifier(id);
  const primary = await stackOf(primaryName);
  const restoredStack = await stackOf(restoredStackName);
  const instance = await lookUp(record, region, 'rds:DescribeDBInstances', `DB instance ${instanceId}`, () => describeInstance(rds, instanceId));
  const found: DrRebuildResource[] = [
    ...(primary ? [{ kind: 'stack' as const, name: primaryName, status: String(primary.StackStatus) }] : []),
    ...(restoredStack ? [{ kind: 'stack' as const, name: restoredStackName, status: String(restoredStack.StackStatus) }] : []),
    ...(instance ? [{ kind: 'instance' as const, name: instanceId, status: instance.DBInstanceStatus ?? 'of unknown status' }] : []),
  ];
  if (found.length === 0) return undefined;
  const vpcCidr = primary?.Parameters?.find((p) => p.ParameterKey === 'VpcCidr')?.ParameterValue;
  const output = (key: string) => primary?.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
  const keyArn = output('KeyArn');
  const bucketName = output('BucketName');
  const outputs = { ...(keyArn ? { keyArn } : {}), ...(bucketName ? { bucketName } : {}) };
  return { region, found, rebuiltStack: primary !== undefined, ...(vpcCidr ? { vpcCidr } : {}), ...(keyArn || bucketName ? { outputs } : {}) };
}

/** `a, b and c` */
function listed(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : items[0] ?? '';
}

/** What was found, each with its region and status: `stack tessera-acme in us-west-2 is UPDATE_COMPLETE and DB instance tessera-acme-restored in us-west-2 is available`. */
function foundText(rebuild: DrRebuild): string {
  return listed(rebuild.found.map((f) => `${f.kind === 'stack' ? 'stack' : 'DB instance'} ${f.name} in ${rebuild.region} is ${f.status}`));
}

/**
 * The refusals' first sentence: the tenant rebuilt (stack `tessera-<id>` there) or partly rebuilt (only what else the
 * runbook makes, with the tenant's data), and what was found.
 */
function rebuildFound(record: TenantRecord, rebuild: DrRebuild): string {
  const id = record.tenantId;
  return rebuild.rebuiltStack
    ? `tenant ${id} was rebuilt in its DR region by the failover runbook: ${foundText(rebuild)}`
    : `tenant ${id} was partly rebuilt in its DR region by the failover runbook (its stack ${stackName(id, 'tenant')} is not there, but what else the rebuild makes is, with the tenant's data): ${foundText(rebuild)}`;
}

/**
 * What the failover blueprint keeps when stack `tessera-<id>` is deleted (lib/failover-retained-resources.ts), each by its
 * name, and how to find those CloudFormation named: with the tenant's data written since the failover, and deleted by no
 * step of the offboarding. The stack found: what it will leave (its outputs name the key and the tenant bucket); not found:
 * what it left if it was there and was deleted.
 */
function retainedByFailoverStack(record: TenantRecord, rebuild: DrRebuild): string {
  const id = record.tenantId;
  const name = stackName(id, 'tenant');
  const list = failoverRetainedText(failoverRetainedResources(id, rebuild.region, rebuild.outputs));
  const how = `no step of the offboarding deletes it; aws cloudformation describe-stack-resources --stack-name ${name} --region ${rebuild.region} names each while the stack stands`;
  return `, and what stack ${name} keeps when deleted${rebuild.rebuiltStack ? '' : ', if it was there'}, with the tenant's data since the failover (those of its tier; ${how}): ${list}`;
}

/**
 * What to delete, in order, of what was found: stack `tessera-<id>-restored`, stack `tessera-<id>`, then the DB instance
 * `tessera-<id>-restored` (kept by its stack when deleted: DeletionPolicy Retain, its deletion protection on since step 7),
 * which no step of the offboarding deletes (a vpc tenant's stays in the shared account), then what stack `tessera-<id>`
 * keeps when deleted (retainedByFailoverStack), each by name.
 */
function removal(record: TenantRecord, rebuild: DrRebuild): string {
  const instance = drRestoredInstanceIdentifier(record.tenantId);
  const stacks = rebuild.found.filter((f) => f.kind === 'stack').map((f) => f.name).reverse();
  const retained = stacks.includes(restoredDatabaseStackName(record.tenantId));
  const hasInstance = retained || rebuild.found.some((f) => f.kind === 'instance');
  const deleteStacks = stacks.length ? `delete ${stacks.length > 1 ? 'stacks' : 'stack'} ${listed(stacks)} in ${rebuild.region}` : '';
  const why = retained ? ', which the stack of that name keeps when deleted (DeletionPolicy Retain; turn its deletion protection off first)' : ' (turn its deletion protection off first if it is on)';
  const deleteInstance = hasInstance ? `${stacks.length ? ' and then' : `delete`} the database instance ${instance}${stacks.length ? '' : ` in ${rebuild.region}`}${why}: the offboarding deletes no instance in the DR region` : '';
  return `${deleteStacks}${deleteInstance}${retainedByFailoverStack(record, rebuild)}`;
}

/**
 * The refusal of an offboarding's *Delete tenant stacks* or of the range's release while the tenant's DR rebuild, whole or
 * in part, is there (drRebuildOf): the rebuilt tenant is offboarded by hand (docs/resilience.md, "After the failover, the
 * lifecycle does not manage the rebuilt stack"). The message names what was found (each stack and instance, its region
 * and status), the range kept claimed (not given back to the pool: the rebuilt VPC uses it, or may, while anything of the
 * rebuild is left) and the way on (what to delete, in order, then `tessera tenants retry`).
 * @param ranges - the tenant's ranges kept claimed (its record's `vpcCidr` and stray claims)
 * @param what - what the step did not do, in words
 */
export function rebuiltTenantRefusal(record: TenantRecord, rebuild: DrRebuild, ranges: readonly string[], what: string): TenantRebuiltInDrRegionError {
  const id = record.tenantId;
  const uses = rebuild.rebuiltStack ? `the rebuilt VPC uses ${rebuild.vpcCidr ?? 'it'}` : 'the rebuilt VPC may use it while anything of the rebuild is left';
  const kept = ranges.length ? `its VPC range ${ranges.join(', ')} stays claimed and is not given back to the pool (${uses}; a second VPC with it would break a later peering or Transit Gateway attachment, and rules by range would admit the wrong tenant)` : 'it holds no VPC range';
  return new TenantRebuiltInDrRegionError(
    `${rebuildFound(record, rebuild)}. `
    + `A rebuilt tenant is offboarded by hand (docs/resilience.md: its data since the failover is in ${rebuild.region}, not in this offboarding's export, and its roles are the home stack's): ${what}; ${kept}. `
    + `Export its data from ${rebuild.region}, ${removal(record, rebuild)}, then resume the offboarding: tessera tenants retry ${id}`,
  );
}

/**
 * The refusal of an offboarding at its first step, *Check rebuilt stack* (check-rebuilt-stack.ts), while the tenant's DR
 * rebuild, whole or in part, is there (drRebuildOf): before its keys and users are revoked, its home bucket exported, its
 * database snapshotted or any protection lifted (the home stack holds the roles the rebuilt stack imports, and the
 * rebuild's data is in no export). Nothing of the offboarding was done: the tenant keeps the status it had
 * (`previousStatus`: ACTIVE, SUSPENDED, FAILED; OFFBOARDING for an offboarding resumed after an earlier one failed), and
 * its range stays claimed. The message names what was found (each stack and instance, its region and status) and the way
 * on (what to delete, in order, then offboard again: `tessera tenants delete`, or `retry` for a tenant already OFFBOARDING).
 */
export function rebuiltOffboardingRefusal(record: TenantRecord, rebuild: DrRebuild, previousStatus: string): TenantRebuiltInDrRegionError {
  const id = record.tenantId;
  const again = previousStatus === 'OFFBOARDING' ? `resume the offboarding: tessera tenants retry ${id}` : `offboard it again: tessera tenants delete ${id} --yes`;
  return new TenantRebuiltInDrRegionError(
    `${rebuildFound(record, rebuild)}. `
    + `A rebuilt tenant is offboarded by hand (docs/resilience.md: its data since the failover is in ${rebuild.region}, not in this offboarding's export, and its roles are the home stack's): `
    + `the offboarding was refused at its start, before anything changed (no key or user revoked, nothing exported, no protection lifted, no stack deleted); the tenant stays ${previousStatus} and its VPC range stays claimed. `
    + `Export its data from ${rebuild.region}, ${removal(record, rebuild)}, then ${again}`,
  );
}

/**
 * The refusal of a tier change, a repair or a rolling upgrade's run while the tenant's DR rebuild, whole or in part, is
 * there (drRebuildOf). Rebuilt (stack `tessera-<id>` there): the tenant runs from that stack, which the lifecycle does not
 * manage, and the change would update its home stacks (whose roles the rebuilt stack imports) and its DR stack instead.
 * Partly rebuilt: the tenant's data is also in its DR region, out of the lifecycle's reach. Updates of a rebuilt tenant are
 * by hand until the home region is back (docs/resilience.md). The message names what was found (each stack and instance,
 * its region and status), that nothing was changed, and the way on.
 * @param what - the operation in words: `this change`, `the rolling upgrade to version 1.2.0`
 */
export function rebuiltChangeRefusal(record: TenantRecord, rebuild: DrRebuild, what: string): string {
  const unchanged = `so it was refused and nothing was changed (the tenant stays on tier ${record.tier}, version ${record.blueprintVersion ?? 'unrecorded'}). `;
  return rebuild.rebuiltStack
    ? `${rebuildFound(record, rebuild)}, and the tenant runs from it. `
      + `The lifecycle does not manage the rebuilt stack: ${what} would update the tenant's home stacks (whose roles the rebuilt stack imports), not the stack it runs from, ${unchanged}`
      + `Updates of a rebuilt tenant are by hand until the home region is back (docs/resilience.md); once the tenant runs from its home region again, ${removal(record, rebuild)}, then run it again`
    : `${rebuildFound(record, rebuild)}. `
      + `The lifecycle does not manage what the failover runbook makes: ${what} would update the tenant's home stacks while its data is also in ${rebuild.region}, ${unchanged}`
      + `To go on: ${removal(record, rebuild)}, then run it again`;
}
