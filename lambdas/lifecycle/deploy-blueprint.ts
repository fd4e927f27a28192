import {
  CreateStackCommand,
  DeleteStackCommand,
  UpdateStackCommand,
  type CloudFormationClient,
  type Parameter,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { createHash } from 'node:crypto';
import { AVAILABILITY_ZONES_PARAMETER, DATABASE_DELETION_PROTECTION_PARAMETER, databaseInstanceIdentifier, dedicatedClusterName } from '../../lib/tenant-naming.js';
import type { DisasterRecoveryRecord, LifecycleExecution, LifecycleKind, TenantRecord } from '../../lib/tenant-record.js';
import { clientWith } from '../shared/aws-clients.js';
import { ENV, requireEnv, tierConfig } from '../shared/environment.js';
import { ChangeRefusedError, InvalidRequestError, StackBusyError, StackFailedError, StackNotOwnedError } from '../shared/errors.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { requireTenant, sameExecution, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { deployZones, standingZones, ZoneRefusal, type Zone } from './availability-zones.js';
import { nodeGroups } from '../../lib/node-groups.js';
import { baselineParameters, cloudFormationFor, compareVersions, describeStack, drRegionFor, executionRoleArn, needsNamespace, parameters, stackName, templateFacts, templateUrl, VERSION_TAG, type BlueprintKind, type TemplateFacts } from './blueprints.js';
import { describeBoundaryRefusal } from './pod-bridge-boundary.js';
import { changeSetName, describeDestructive, updateThroughChangeSet, type ChangeSetOutcome } from './change-set-guard.js';
import { describeDrRegionConflict, drRegionConflict } from './dr-region-change.js';
import { DEAD_STACK_STATUSES, removeDeadTenantStack } from './dead-stack.js';
import { executionLedger, liftTerminationProtection, type LiftOutcome } from './protection-lift.js';
import { completeFailedRollbacks } from './failed-rollbacks.js';
import { continueRollbackAdvice, latestResourceFailure, noUpdates, runningOperation, stackBusy, type RunningOperation } from './stack-events.js';
import { assertOwned, COMPONENT_TAG, ownershipProblem, tenantStackTags } from './stack-ownership.js';
import { type LifecycleState, tenantTagsOf } from './state.js';
import { describeVersionRefusals, instanceStorageCeilingRefusals, instanceStorageRefusals, versionRefusals, type InstanceStorage } from './version-change.js';
import { deleteStackTarget, deleteStackToken } from './delete-token.js';
import { blockingUpgradeInsights, insightRefusals } from './upgrade-insights.js';
import { describeTakenLogGroups, takenLogGroups } from './retained-log-groups.js';
import { FAILOVER_INTERIM_WHY, needsFailoverInterim, pendingFailoverInterim, publishFailoverInterim, recordFailoverInterim } from './cache-failover-interim.js';
import { holdLeaseFor } from './stack-operation-lease.js';
import { ensureNamespaceDeployer } from './namespace-deployer.js';



/**
 * ClientRequestToken of a stack operation: unique per execution (a new attempt is a new
 * operation) and per blueprint kind, the same for every retry of the step within the execution,
 * so CloudFormation recognizes a retried call instead of starting a second operation. Tokens are
 * 1-128 characters of `[a-zA-Z0-9][-a-zA-Z0-9]*` (CloudFormation API reference).
 */
export function requestToken(state: Pick<LifecycleState, 'executionArn' | 'request'>, kind: string, purpose = 'deploy'): string {
  const execution = createHash('sha256').update(state.executionArn ?? state.request.requestId).digest('hex').slice(0, 24);
  return `tessera-${purpose}-${kind}-${execution}`.slice(0, 128);
}

export type BaselineAction = 'CREATED' | 'UPDATED' | 'UNCHANGED' | 'WAITING' | 'NEWER';

/**
 * Deploys the account baseline (`tessera-account-baseline`) with the provisioning session's own
 * rights (no RoleARN: the baseline creates the execution role the tenant stacks use), with `input.parameters`
 * (baselineParameters: an account tier's customizations role; none: its empty default). Several
 * onboardings into the shared workload account may call this at once, so every outcome of a race
 * is success or a wait:
 * - no stack: CreateStack; `AlreadyExistsException` (another onboarding created it a moment
 *   earlier) → WAITING (the check step waits for it);
 * - `*_IN_PROGRESS` (create or update by someone else) → WAITING; `DELETE_IN_PROGRESS` → StackBusy (retried);
 * - `ROLLBACK_COMPLETE` (a first create that failed; nothing of it works) → deleted, StackBusy (retried: created afresh);
 *   its termination protection, when on, is lifted first by `input.liftTermination` (stackLifter: liftOnRecord, its
 *   intent then the lift in the running execution's history entry, then the audit bucket and the bus), before DeleteStack;
 * - otherwise UpdateStack to `version`, unless the stack's `tessera:blueprint-version` tag is newer
 *   (a rolling upgrade got there first: never downgrade) → NEWER; "No updates are to be performed"
 *   → UNCHANGED; "…_IN_PROGRESS state and can not be updated" → WAITING.
 * Before each CreateStack, DeleteStack and UpdateStack, `input.beforeStackOperation` (the handler's lease check,
 * stack-operation-lease.ts holdLeaseFor) is awaited with the operation in words; when it throws, nothing is started.
 */
export async function deployBaseline(cfn: CloudFormationClient, input: { url: string; version: string; token: string; parameters?: Parameter[]; liftTermination(stack: Stack): Promise<unknown>; beforeStackOperation?(operation: string): Promise<void> }): Promise<BaselineAction> {
  const check = async (operation: string) => input.beforeStackOperation?.(`${operation} of stack ${name}`);
  const name = stackName('', 'baseline');
  const common = {
    StackName: name,
    TemplateURL: input.url,
    ...(input.parameters?.length ? { Parameters: input.parameters } : {}),
    Capabilities: ['CAPABILITY_NAMED_IAM' as const],
    Tags: [{ Key: VERSION_TAG, Value: input.version }, { Key: COMPONENT_TAG, Value: 'account-baseline' }],
  };
  const existing = await describeStack(cfn, name);
  const notOurs = existing && ownershipProblem(existing, { tenantId: '', requestId: '' }, 'baseline');
  if (notOurs) throw new StackNotOwnedError(`stack ${name} (${existing.StackId}) exists but is not Tessera's account baseline: ${notOurs}; Tessera never adopts a stack it did not create — remove or rename it`);
  if (!existing) {
    try {
      // UsePreviousValue is an update's: a create takes the parameter's default.
      const created = input.parameters?.filter((p) => !p.UsePreviousValue) ?? [];
      await check('CreateStack');
      await cfn.send(new CreateStackCommand({ ...common, Parameters: created.length ? created : undefined, EnableTerminationProtection: true, OnFailure: 'ROLLBACK', ClientRequestToken: input.token }));
      return 'CREATED';
    } catch (e) {
      if ((e as Error).name === 'AlreadyExistsException') return 'WAITING';
      throw e;
    }
  }
  const status = existing.StackStatus ?? '';
  if (status === 'DELETE_IN_PROGRESS') throw new StackBusyError(`stack ${name} is being deleted; deploying again once it is gone`);
  if (status.endsWith('_IN_PROGRESS')) return 'WAITING';
  if (status === 'ROLLBACK_COMPLETE') {
    // Created with termination protection, which CloudFormation honours whatever the status. The lift is recorded as a dead
    // tenant stack's are (before the deletion): the create that follows turns it on again, but on another stack (a new
    // StackId), and a lift recorded nowhere left no one able to tell that Tessera had turned it off.
    await input.liftTermination(existing);
    await check('DeleteStack');
    await cfn.send(new DeleteStackCommand({ StackName: deleteStackTarget(existing), ClientRequestToken: deleteStackToken(input.token, existing, 'Deploy blueprint') }));
    throw new StackBusyError(`stack ${name} is ROLLBACK_COMPLETE from an earlier attempt; deleted it, creating it again once it is gone`);
  }
  if (status === 'ROLLBACK_FAILED' || status === 'UPDATE_ROLLBACK_FAILED' || status === 'DELETE_FAILED') {
    throw new StackFailedError(`stack ${name} is ${status}: ${existing.StackStatusReason ?? 'no reason reported'}; an operator must repair it (ContinueUpdateRollback or delete) before any tenant can deploy in this account`);
  }
  const current = existing.Tags?.find((t) => t.Key === VERSION_TAG)?.Value;
  if (current && compareVersions(current, input.version) > 0) return 'NEWER';
  await check('UpdateStack');
  try {
    await cfn.send(new UpdateStackCommand({ ...common, ClientRequestToken: input.token }));
    return 'UPDATED';
  } catch (e) {
    if (noUpdates(e)) return 'UNCHANGED';
    if (stackBusy(e)) return 'WAITING';
    throw e;
  }
}

/**
 * The running execution's history entry as the ledger of the protections it lifts (executionLedger): the entry is found
 * by the execution's ARN (sameExecution), else started as `kind`'s, RUNNING. Record failure reads it back into
 * `failure.liftedProtections`.
 */
function executionLifts(record: TenantRecord, state: LifecycleState, kind: LifecycleKind) {
  const execution = { kind, requestId: state.request.requestId, executionArn: state.executionArn };
  const entry: LifecycleExecution = record.executions.find((e) => sameExecution(e, execution)) ?? { ...execution, startedAt: new Date().toISOString(), status: 'RUNNING' };
  return executionLedger(record.tenantId, entry);
}

/**
 * Lifts the termination protection of a stack deleted outside removeDeadTenantStack (the account baseline, a DR stack,
 * each ROLLBACK_COMPLETE and deleted to be created again) as that one lifts its own: liftOnRecord (its intent, the lift,
 * then the running execution's history entry, the audit bucket and the bus, with `step` and `reason`; the caller
 * awaits it before DeleteStack). A lift the entry already holds (the same StackId: a retry of the step) is not made or
 * recorded again; one made by an earlier attempt that ended before recording it is recorded. The execution's kind is
 * the lease's when it holds it, else the state's (a change, an upgrade).
 */
export function stackLifter(cfn: CloudFormationClient, record: TenantRecord, state: LifecycleState & { kind?: 'change' | 'upgrade' }, context: { step: string; reason: string }): (stack: Stack) => Promise<LiftOutcome> {
  const lease = record.lease;
  const kind: LifecycleKind = lease && lease.executionArn === state.executionArn ? lease.kind : state.kind ?? (state.change ? 'change' : 'onboard');
  const ledger = executionLifts(record, state, kind);
  return (stack) => liftTerminationProtection(cfn, record, stack, ledger, { requestId: state.request.requestId, executionArn: state.executionArn, step: context.step, reason: context.reason });
}

/**
 * A dead tenant stack met by an onboarding (DEAD_STACK_STATUSES: a create that rolled back or
 * could not, a deletion that failed): its protections are lifted (each recorded in the running
 * execution's history entry as it is made, before the next, then in the audit bucket and on the bus), then it is deleted; StackBusy either
 * way, so the state machine retries until the stack is gone and can be created afresh. Never an
 * UpdateStack: CloudFormation cannot update such a stack.
 */
async function removeDeadStack(cfn: CloudFormationClient, record: TenantRecord & { accountId: string }, stack: Stack, state: LifecycleState): Promise<never> {
  const name = stack.StackName!;
  // Read before the deletion: a deleted stack's events answer only by its id (by name: "does not exist").
  const why = stack.StackStatus === 'DELETE_FAILED' ? `: ${(await latestResourceFailure(cfn, stack.StackId ?? name)) ?? stack.StackStatusReason ?? 'no reason reported'}` : '';
  // Each lift on record (its intent before it, then the execution's history entry) before the next is made: written in a
  // `finally`, a Lambda that timed out after a lift ran none, and the retry found the protection off and neither lifted
  // nor recorded it again.
  const removal = await removeDeadTenantStack(cfn, record, stack, {
    ledger: executionLifts(record, state, 'onboard'), requestId: state.request.requestId, executionArn: state.executionArn, step: 'Deploy blueprint',
    beforeDelete: (operation) => holdLeaseFor(record.tenantId, operation),
  });
  const lifts = removal.lifted;
  const lifted = lifts.length ? `; lifted ${lifts.map((l) => `${l.protection} of ${l.logicalId}`).join(', ')}` : '';
  if (!removal.deleted) {
    throw new StackBusyError(`stack ${name} is ${stack.StackStatus}${why}${lifted}; waiting for the protection of ${removal.waitingFor.join(', ')} to be lifted before deleting it`);
  }
  throw new StackBusyError(`stack ${name} is ${stack.StackStatus} from an earlier attempt${why}${lifted}; deleted it, creating it again once it is gone`);
}

/**
 * Creates the tenant's stack from the tier blueprint's template URL, or updates it to the target
 * tier/version; for `baseline`, deploys the account baseline first (see deployBaseline).
 * Idempotent: a stack this execution is already creating or updating (its events carry this
 * execution's request token: a retry after CreateStack or ExecuteChangeSet went through) is left to
 * finish, for *Check blueprint*. A stack being created or updated by anyone else (the console, another
 * tool, another execution: another token, or none) is not taken for ours: StackBusy, so the state
 * machine waits for that operation to end (StackBusy retries, about 55 minutes) and this step then runs
 * our own change set, inspected against the stack as that operation left it; before, the change (a
 * `--repair` too) went on to succeed with no change set of ours run.
 *
 * Tenant stacks run as the account's blueprint execution role (`RoleARN`, see executionRoleArn)
 * with `RetainExceptOnCreate`: a rolled-back create removes even the resources whose policy is
 * Retain, so a re-run with the same names succeeds. The database is created unprotected
 * (`DatabaseDeletionProtection=false`), so that a create failing after the database exists rolls
 * it back instead of ending ROLLBACK_FAILED; *Check blueprint* switches the protection on as soon
 * as the create is complete, and every update passes `true`. Namespace stacks run as their tenant's own
 * namespace deployer (`tessera-<tenant>-namespace-deployer`, namespace-deployer.ts ensureNamespaceDeployer: created before the
 * stack's first deploy; a stack that ran as the platform's shared deployer moves to it at its next update). A DR stack (`dr`: `tessera-<id>-dr`) runs like the tenant
 * stack (same account, execution role, RetainExceptOnCreate) in the target tier's DR region and is
 * recorded in the registry (`disasterRecovery`, DEPLOYING); one whose create rolled back is deleted
 * (its termination protection lifted and recorded first: stackLifter, liftOnRecord) and created again. A DR deploy to another region than the tenant's recorded DR stack (not REMOVED)
 * is refused (ChangeRefused, drRegionConflict), on every path: Begin change checks changes, this
 * checks an onboarding re-run after the tier's DR region changed in config.
 *
 * A change, upgrade or repair that finds no tenant stack (deleted outside Tessera) is refused
 * (ChangeRefused): it would create the stack again with empty data stores, without the guard.
 *
 * A dead tenant stack (ROLLBACK_COMPLETE, ROLLBACK_FAILED, CREATE_FAILED, DELETE_FAILED) met by an
 * onboarding, and a DR stack in one of the last three met by an onboarding, is removed (removeDeadStack: protections lifted and recorded, then deleted) and
 * answered with StackBusy. Once it is gone, a re-run of a failed onboarding first completes what a
 * failed rollback of it could not (completeFailedRollbacks: the RetainExceptOnCreate resources its
 * deletion kept, whose names the new create needs). A change or upgrade never deletes a stack: a
 * dead one fails the step, for an operator (a live tenant's DELETE_FAILED stack still holds its
 * database).
 *
 * Every update of a standing stack goes through the change-set guard (updateThroughChangeSet): a
 * change or upgrade, and also an onboarding re-run that finds the stack an earlier attempt created
 * (a failure after the stack was up, e.g. at wiring): that update takes the stack to the platform's
 * current blueprint version, which may replace a stateful resource the earlier version made. It
 * carries no `allowReplacement`, so such a change set is refused and recorded (`changeSetRefusal`,
 * kind `onboard`), the stack untouched; the tenant's onboarding fails with ChangeRefused. Creates
 * stay CreateStack.
 *
 * An update that gives a single-node cache its first replica and turns its automatic failover on (cache-failover-interim.ts:
 * CloudFormation fails that in one update) runs in two: this step first deploys the interim template (the target's with
 * the cache's failover and Multi-AZ off, written to the catalog beside it), records it in the execution's history entry
 * (`interimDeploy`) and answers `interim: true`; the workflow then waits for that update (*Check blueprint*) and runs this
 * step again, which finds the tenant recorded on the target, marks the interim complete and deploys the target template.
 * Both updates go through the change-set guard, each with its own request token.
 */
export const handler = lifecycleHandler('Deploy blueprint', async (state: LifecycleState & { kind?: 'change' | 'upgrade' }) => {
  const kind: BlueprintKind = state.blueprint ?? 'tenant';
  const record = await requireTenant(state.request.tenantId);
  const tier = state.change?.tier ?? record.tier;
  const version = state.change?.blueprintVersion ?? requireEnv(ENV.blueprintVersion);
  // A DR blueprint goes to the target tier's DR region (the workflow runs this step only for a tier with one).
  const drRegion = kind === 'dr' ? drRegionFor(record, tier) : undefined;
  // Begin change refuses a change that would move the DR stack; an onboarding re-run after the tier's DR
  // region changed in config would create a second DR stack and forget the first (its data copies with it).
  const drConflict = kind === 'dr' ? drRegionConflict(record, tierConfig(tier)) : undefined;
  if (drConflict) throw new ChangeRefusedError(describeDrRegionConflict(record.tenantId, tier, drConflict));
  const cfn = await cloudFormationFor(record, kind, 'deploy', drRegion);
  const name = stackName(record.tenantId, kind);
  const token = requestToken(state, kind);
  if (kind === 'baseline') {
    const action = await deployBaseline(cfn, {
      url: templateUrl(tier, kind, version), version, token, parameters: await baselineParameters(record, tier, version),
      liftTermination: stackLifter(cfn, record, state, { step: 'Deploy blueprint', reason: 'account baseline ROLLBACK_COMPLETE: lifted so that the stack can be deleted and created again' }),
      beforeStackOperation: (operation) => holdLeaseFor(record.tenantId, operation),
    });
    logger.info('account baseline', { accountId: record.accountId, action, version });
    return { stackName: name, kind, action };
  }
  const existing = await describeStack(cfn, name);
  if (existing) assertOwned(existing, record, kind);
  // A live tenant's stack that is gone was deleted outside Tessera (drift records it DELETED). A change, an upgrade or a
  // repair would CreateStack it: a new database and bucket, empty, under a new key, past the change-set guard (a create
  // has no change set), and the tenant ACTIVE on them. Only an onboarding creates a tenant stack.
  // Begin change always names the tier: a change to another tier is a tier change, anything else a version change.
  const what = state.change?.repair ? 'repair' : state.change?.tier !== undefined && state.change.tier !== record.tier ? 'tier change' : 'blueprint change';
  if (!existing && kind === 'tenant' && state.change) {
    throw new ChangeRefusedError(`stack ${name} does not exist (deleted outside Tessera): a ${what} does not create a live tenant's stack again, since a new one would start with an empty database and bucket under a new key, past the change-set guard; restore the tenant's data stores from their backups and snapshots (what its stack retained), or offboard it (docs/resilience.md: Drift, Repairing it)`);
  }
  // The same for a DR stack the registry records (not REMOVED: a first move to a DR tier creates it): deleted outside
  // Tessera, it left its key alias, replica bucket and vault (RETAIN, fixed names) behind, so a create would roll back
  // on them, and Record failure would then record the stack REMOVED while the DR stores still hold the tenant's copies
  // (no DR region pinned any more, no drift check, and `tessera tenants failover-plan` refuses a REMOVED DR stack).
  // Not this execution's own create (DEPLOYING by it), which rolled back and was deleted below: that one is made again.
  const recordedDr = record.disasterRecovery;
  const ownCreate = recordedDr?.status === 'DEPLOYING' && recordedDr.deployedWith?.executionArn === state.executionArn;
  if (!existing && kind === 'dr' && state.change && recordedDr && recordedDr.status !== 'REMOVED' && recordedDr.stackName === name && !ownCreate) {
    throw new ChangeRefusedError(`DR stack ${name} (${recordedDr.region}) is recorded ${recordedDr.status} but does not exist (deleted outside Tessera): a ${what} does not create it again, `
      + `since its retained key alias, replica bucket and backup vault (with the tenant's recovery point copies) keep their names and a new stack would fail on them; `
      + `bring the stack back over them (CloudFormation resource import into ${name}) or offboard the tenant`);
  }
  const status = existing?.StackStatus ?? '';
  // The tenant VPC's zones, checked on every deploy of a tier blueprint (create or update; not while the
  // stack is busy, nor for a dead stack an onboarding deletes, nor for one stuck UPDATE_ROLLBACK_FAILED, refused below): an AvailabilityZones value only for a
  // template that declares the parameter.
  const deploys = kind === 'tenant' && !status.endsWith('_IN_PROGRESS') && !DEAD_STACK_STATUSES.has(status) && status !== 'ROLLBACK_COMPLETE' && status !== 'UPDATE_ROLLBACK_FAILED';
  // The cache's first replica and its failover in one update: CloudFormation fails it, so an interim update goes first (cache-failover-interim.ts).
  const failoverInterim = deploys && existing ? (await assertReachableVersions(record, { tier, version })).failoverInterim : false;
  const interimToken = requestToken(state, kind, 'interim');
  // The template deployed, read once: its zone count and the parameters it declares (an older published version lacks some).
  const facts = deploys ? await templateFacts(tier, 'tenant', version) : undefined;
  const zones = facts ? await tenantZones(cfn, record, { tier, version, stack: existing ? name : undefined }, facts) : undefined;
  // A DR tier's template declares BackupScheduleMinute: the tenant's own minute is passed (lib/backup-schedule-minute.ts).
  const declared = facts?.parameters ?? [];
  // A namespace stack runs as its tenant's own deployer (namespace-deployer.ts), created here before the stack's first deploy:
  // an onboarding's create, or the first update of a stack that ran as the shared deployer (its RoleARN moves to this one).
  const deployer = kind === 'namespace' ? await ensureNamespaceDeployer(record.tenantId) : undefined;
  const input = {
    StackName: name,
    TemplateURL: templateUrl(tier, kind, version),
    Parameters: parameters({ record, kind, tier, zones, declared }),
    Capabilities: ['CAPABILITY_NAMED_IAM' as const],
    // The change's tags when it changes them (tenantTagsOf), else the recorded ones: a change set's Tags replace the stack's.
    Tags: tenantStackTags({ ...record, tags: tenantTagsOf(state, record) }, tier, version, state.executionArn, existing),
    RoleARN: deployer ? deployer.roleArn : executionRoleArn(record.accountId!),
    ...(kind === 'tenant' || kind === 'dr' ? { RetainExceptOnCreate: true } : {}),
  };
  const protection = (on: boolean) => (kind === 'tenant' ? [{ ParameterKey: DATABASE_DELETION_PROTECTION_PARAMETER, ParameterValue: String(on) }] : []);
  let remnantsRemoved: string[] = [];
  if (!existing) {
    const rerun = !state.change && record.executions.some((e) => e.kind === 'onboard' && e.status === 'FAILED');
    if (kind === 'tenant' && rerun) {
      remnantsRemoved = await completeFailedRollbacks(cfn, { ...record, accountId: record.accountId! }, name, { requestId: state.request.requestId, executionArn: state.executionArn });
    }
    // A DR stack is recorded before it is created: offboarding finds it (in its region) only through the registry, so a
    // create whose record failed afterwards would leave it, its key, bucket and vault, unrecorded. One recorded that
    // CreateStack never made is found absent by Record failure (removeDeadDrStack) or created by the next attempt.
    if (drRegion) await recordDrStack(record, name, drRegion, { tier, blueprintVersion: version, executionArn: state.executionArn });
    await holdLeaseFor(record.tenantId, `CreateStack of stack ${name}`);
    await untilAssumable(input.RoleARN, () => cfn.send(new CreateStackCommand({ ...input, Parameters: [...input.Parameters, ...protection(false)], EnableTerminationProtection: true, OnFailure: 'ROLLBACK', ClientRequestToken: token })));
  } else if (status.endsWith('_IN_PROGRESS')) {
    if (status.startsWith('DELETE')) throw new StackBusyError(`stack ${name} is being deleted; deploying again once it is gone`);
    // A retry of this step after its own CreateStack or ExecuteChangeSet went through: the check step waits for it. Anything
    // else (the console, another tool, another execution) is not this execution's operation: waited for, then ours runs.
    const operation = await runningOperation(cfn, existing);
    // This execution's interim update (the cache's failover off): the check step waits for it, then this step runs again.
    if (kind === 'tenant' && operation?.token === interimToken) return { stackName: name, kind, interim: true };
    if (operation?.token !== token) throw new StackBusyError(describeForeignOperation(name, status, operation));
  } else if (kind === 'tenant' && DEAD_STACK_STATUSES.has(status)) {
    if (state.change) {
      throw new StackFailedError(`stack ${name} is ${status}: ${existing.StackStatusReason ?? 'no reason reported'}; a ${what} does not delete a tenant's stack, and CloudFormation takes no update of a ${status} stack, only its deletion, so neither a change nor --repair can bring it back: restore its data stores from their backups and snapshots (docs/resilience.md, "Repairing it"), or offboard the tenant (tessera tenants delete ${record.tenantId} --yes)`);
    }
    await removeDeadStack(cfn, { ...record, accountId: record.accountId! }, existing, state);
  } else if (kind === 'dr' && DEAD_STACK_STATUSES.has(status) && status !== 'ROLLBACK_COMPLETE' && !state.change) {
    // An onboarding re-run that meets its DR stack ROLLBACK_FAILED, CREATE_FAILED or DELETE_FAILED (a failed rollback, or the
    // deletion by Record failure that failed): removed as a dead primary stack is (protections lifted and recorded, then
    // DeleteStack as the execution role, in the DR region), never updated: CloudFormation refuses a change set on such a stack.
    // No RetainResources: what failed to delete is deleted again (the DR stores are Retain: DeleteStack never deletes them).
    await removeDeadStack(cfn, { ...record, accountId: record.accountId! }, existing, state);
  } else if (kind === 'dr' && DEAD_STACK_STATUSES.has(status) && status !== 'ROLLBACK_COMPLETE') {
    throw new StackFailedError(`stack ${name} in ${drRegion} is ${status}: ${existing.StackStatusReason ?? 'no reason reported'}; a ${what} does not delete a tenant's DR stack, and CloudFormation takes no update of a ${status} stack, only its deletion, so neither a change nor --repair can bring it back: finish its deletion by hand (its key alias, replica bucket and vault are retained), then import them back into ${name} (CloudFormation resource import; docs/resilience.md, "Repairing it"), or offboard the tenant (tessera tenants delete ${record.tenantId} --yes)`);
  } else if (kind === 'dr' && status === 'ROLLBACK_COMPLETE') {
    // A DR stack whose create rolled back holds nothing (RetainExceptOnCreate removed even its retained resources). Its
    // termination protection, when it was on, is lifted on record before the deletion, as a dead primary's is.
    await stackLifter(cfn, record, state, { step: 'Deploy blueprint', reason: 'dead DR stack ROLLBACK_COMPLETE: lifted so that the stack can be deleted and created again' })(existing);
    await holdLeaseFor(record.tenantId, `DeleteStack of stack ${name} in ${drRegion}`);
    await cfn.send(new DeleteStackCommand({ StackName: deleteStackTarget(existing), RoleARN: executionRoleArn(record.accountId!), ClientRequestToken: deleteStackToken(state.executionArn ?? state.request.requestId, existing, 'Deploy blueprint') }));
    throw new StackBusyError(`stack ${name} in ${drRegion} is ROLLBACK_COMPLETE from an earlier attempt; deleted it, creating it again once it is gone`);
  } else if (status === 'ROLLBACK_COMPLETE') {
    throw new StackBusyError(`stack ${name} is ROLLBACK_COMPLETE from an earlier attempt and must be deleted first`);
  } else if (status === 'UPDATE_ROLLBACK_FAILED') {
    // CloudFormation refuses a change set on it ("is in UPDATE_ROLLBACK_FAILED state and can not be updated"), which said
    // neither why the stack is stuck nor the way out; no Tessera operation deletes a live tenant's stack.
    const why = (await latestResourceFailure(cfn, existing.StackId ?? name).catch(() => undefined)) ?? existing.StackStatusReason ?? 'no reason reported';
    throw new StackFailedError(`stack ${name}${drRegion ? ` in ${drRegion}` : ''} is UPDATE_ROLLBACK_FAILED (an earlier update failed, then its rollback): ${why}; ${continueRollbackAdvice(name, drRegion)}`);
  } else {
    // Every update of a standing stack — a change or upgrade, or an onboarding re-run that finds the
    // stack its earlier attempt created (perhaps at an older version than the platform's now) — goes
    // through a change set, inspected for replaced or removed stateful resources.
    const { RetainExceptOnCreate: _retain, ...changeInput } = input as typeof input & { RetainExceptOnCreate?: boolean };
    const execution = { kind: state.kind ?? (state.change ? 'change' as const : 'onboard' as const), requestId: state.request.requestId, executionArn: state.executionArn };
    if (failoverInterim) {
      // First the target template with the cache's failover and Multi-AZ off (the replica added), through the guard as any
      // update; on the history entry before the change set, so that a failure of it is known for the interim's.
      const interim = await publishFailoverInterim(tier, version);
      await recordFailoverInterim(record.tenantId, execution, (earlier) => ({
        what: 'cache-failover-off', why: FAILOVER_INTERIM_WHY, stack: name, tier, blueprintVersion: version,
        templateUrl: interim.url, changeSetName: changeSetName(interimToken), startedAt: earlier?.startedAt ?? new Date().toISOString(),
      }));
      const first = await updateThroughChangeSet(cfn, {
        input: { ...changeInput, TemplateURL: interim.url, Parameters: [...input.Parameters, ...protection(true)] },
        token: interimToken,
        retainExceptOnCreate: true,
        allowReplacement: state.change?.allowReplacement,
        // The lease checked, and the interim update recorded on it, right before ExecuteChangeSet (as the target's below).
        beforeExecute: (changeSetName) => holdLeaseFor(record.tenantId, `ExecuteChangeSet of change set ${changeSetName} on stack ${name} (the interim update: the cache's failover off)`,
          { stack: name, changeSetName, tier, blueprintVersion: version }),
      });
      await recordChangeSet(record, state, name, first, { tier, version, kind });
      await updateTenant(record.tenantId, { stackName: name });
      logger.info('interim update: the cache\'s failover off while its first replica is added; the target template follows', { stack: name, tier, version, template: interim.key, changeSet: first.changeSetName, outcome: first.outcome });
      return { stackName: name, kind, changeSet: { name: first.changeSetName, outcome: first.outcome }, interim: true };
    }
    // The interim update this execution ran is complete (Check blueprint found the stack so): the target now.
    const interimDone = kind === 'tenant' ? pendingFailoverInterim(record, state.executionArn) : undefined;
    if (interimDone) await recordFailoverInterim(record.tenantId, execution, (earlier) => ({ ...(earlier ?? interimDone), completedAt: new Date().toISOString() }));
    const outcome = await untilAssumable(input.RoleARN, () => updateThroughChangeSet(cfn, {
      input: { ...changeInput, Parameters: [...input.Parameters, ...protection(true)] },
      token,
      retainExceptOnCreate: kind === 'tenant' || kind === 'dr',
      allowReplacement: state.change?.allowReplacement,
      deploymentMode: state.change?.repair ? 'REVERT_DRIFT' : undefined,
      // The lease checked (and, for a change's or upgrade's tenant or DR stack, the update recorded on it) right before ExecuteChangeSet:
      // an onboarding re-run's failure leaves the tenant FAILED, where no drift check resolves a pending update. The DR stack's
      // too (s39k): a stop while it updated recorded nothing pending, and a PATCH back met nothing_to_change as it moved on.
      beforeExecute: (changeSetName) => holdLeaseFor(record.tenantId, `ExecuteChangeSet of change set ${changeSetName} on stack ${name}${drRegion ? ` in ${drRegion}` : ''}`,
        (kind === 'tenant' || kind === 'dr') && state.change ? { stack: name, changeSetName, tier, blueprintVersion: version } : undefined),
    }));
    await recordChangeSet(record, state, name, outcome, { tier, version, kind });
    if (kind === 'tenant') await updateTenant(record.tenantId, { stackName: name });
    if (drRegion) await recordDrStack(record, name, drRegion, { tier, blueprintVersion: version, executionArn: state.executionArn });
    return { stackName: name, kind, ...(drRegion ? { region: drRegion } : {}), changeSet: { name: outcome.changeSetName, outcome: outcome.outcome } };
  }
  if (kind === 'tenant') await updateTenant(record.tenantId, { stackName: name });
  if (drRegion) await recordDrStack(record, name, drRegion, { tier, blueprintVersion: version, executionArn: state.executionArn });
  return { stackName: name, kind, ...(drRegion ? { region: drRegion } : {}), ...(remnantsRemoved.length ? { remnantsRemoved } : {}) };
});

/**
 * Runs `call` (a CreateStack or a change set passing `roleArn` as RoleARN) and answers CloudFormation's refusal of a role it
 * cannot assume (ValidationError "Role <arn> is invalid or cannot be assumed") with StackBusy, retried by the state machine:
 * IAM is eventually consistent, and a namespace deployer created a moment before (namespace-deployer.ts) may not be
 * assumable yet ("Troubleshoot IAM": changes are not visible at once everywhere, IAM User Guide). Other errors pass unchanged.
 * @throws StackBusy for that refusal; whatever `call` throws otherwise
 */
export async function untilAssumable<T>(roleArn: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if ((e as Error).name === 'ValidationError' && (e as Error).message.includes(roleArn) && /cannot be assumed/.test((e as Error).message)) {
      throw new StackBusyError(`CloudFormation cannot assume ${roleArn} yet (${(e as Error).message}): a role IAM created moments ago takes a while to be usable everywhere; trying again`);
    }
    throw e;
  }
}

/**
 * Refuses (InvalidRequest, terminal, before any stack operation) an update of a standing tenant stack
 * to a template whose EKS cluster version is lower or more than one minor version higher, or whose
 * PostgreSQL major version or database allocated storage is lower (or the storage higher by less than 10%) than the template the stack was deployed from (the tenant's
 * recorded tier and blueprint version, read from the catalog, which keeps every version): the update
 * would fail and roll back (version-change.ts). This covers what the tier check (tier-migration.ts)
 * cannot see: a version change within the tenant's own tier, after the platform config changed the
 * tier's `kubernetesVersion`, `engineMajorVersion` or `allocatedStorageGiB` (a rolling upgrade, a pinned older version). Not
 * checked when the tenant has no recorded version, or its template is not in the catalog (logged).
 * When the template changes the database's AllocatedStorage or MaxAllocatedStorage, the instance itself is read
 * (tenantInstanceStorage) and the values judged against what it has now (instanceStorageRefusals: grown by storage
 * autoscaling, or still optimizing its last storage change; instanceStorageCeilingRefusals: a ceiling less than 10%
 * above its storage). When it moves the dedicated cluster's Version, the cluster's upgrade insights for the new version
 * are read (blockingUpgradeInsights: ListInsights and DescribeInsight of `tessera-<id>`) and each in ERROR refused with
 * its recommendation: EKS would refuse UpdateClusterVersion with InvalidStateException. When it adds a named log group
 * (a logical id the deployed template lacks), CloudWatch Logs is asked whether the name is taken (retained-log-groups.ts:
 * one an earlier update removed and kept), which CloudFormation's create would fail on. When the target tier runs on the
 * shared cluster at a version older than the platform's, its namespace blueprint is read too, and refused when its
 * pod-bridge role has no permissions boundary (pod-bridge-boundary.ts: the namespace stack's update would fail).
 * Answers whether the update needs the interim update first (`failoverInterim`: the template gives a single-node cache its
 * first replica and turns its failover on, which CloudFormation cannot do in one update: cache-failover-interim.ts).
 */
async function assertReachableVersions(record: TenantRecord, target: { tier: string; version: string }): Promise<{ failoverInterim: boolean }> {
  const none = { failoverInterim: false };
  if (!record.blueprintVersion || (record.tier === target.tier && record.blueprintVersion === target.version)) return none;
  // A shared tier at a version older than the platform's: its namespace blueprint may predate the pod-bridge boundary,
  // which this platform's namespace deployer requires (pod-bridge-boundary.ts). Read before the tenant stack moves.
  const platformVersion = requireEnv(ENV.blueprintVersion);
  if (needsNamespace(target.tier) && compareVersions(target.version, platformVersion) < 0
    && (await templateFacts(target.tier, 'namespace', target.version)).podBridgeBoundary === false) {
    throw new InvalidRequestError(describeBoundaryRefusal(record.tenantId, `tier ${target.tier} at blueprint version ${target.version} (the stack is on tier ${record.tier} at ${record.blueprintVersion})`, platformVersion));
  }
  const [from, to] = await Promise.all([
    templateFacts(record.tier, 'tenant', record.blueprintVersion).catch((e: Error) => {
      logger.warn('the template the tenant stack was deployed from is not readable: versions not compared', { tier: record.tier, version: record.blueprintVersion, error: e.message });
      return undefined;
    }),
    templateFacts(target.tier, 'tenant', target.version),
  ]);
  if (!from) return none;
  const refusals = versionRefusals(from.versions, to.versions);
  // CloudFormation passes AllocatedStorage and MaxAllocatedStorage to ModifyDBInstance only when the template's value
  // changes: then the instance as it is (storage autoscaling may have grown it) decides whether RDS takes the new value.
  const changed = (key: 'allocatedStorageGiB' | 'maxAllocatedStorageGiB') =>
    to.versions[key] !== undefined && from.versions[key] !== undefined && to.versions[key] !== from.versions[key] ? to.versions[key] : undefined;
  const toStorage = changed('allocatedStorageGiB');
  const toCeiling = changed('maxAllocatedStorageGiB');
  // A dedicated cluster's Version moving up (one minor version: versionRefusals let it through) makes CloudFormation call
  // UpdateClusterVersion, which EKS refuses while an upgrade insight for the target version is in ERROR (upgrade-insights.ts).
  const fromK8s = from.versions.kubernetesVersion;
  const toK8s = to.versions.kubernetesVersion;
  if (!refusals.length && fromK8s !== undefined && toK8s !== undefined && fromK8s !== toK8s) {
    const eks = clientWith(EKSClient, await tenantAccountCredentials(record.accountId!, record.tenantId, 'deploy'));
    refusals.push(...insightRefusals(await blockingUpgradeInsights(eks, dedicatedClusterName(record.tenantId), toK8s), fromK8s, toK8s));
  }
  if (!refusals.length && (toStorage !== undefined || toCeiling !== undefined)) {
    const instance = await tenantInstanceStorage(record);
    if (toStorage !== undefined) refusals.push(...instanceStorageRefusals(instance, toStorage));
    if (toCeiling !== undefined) refusals.push(...instanceStorageCeilingRefusals(instance, toCeiling, toStorage));
  }
  if (refusals.length) {
    throw new InvalidRequestError(describeVersionRefusals(record.tenantId, `tier ${target.tier} at blueprint version ${target.version} (the stack is on tier ${record.tier} at ${record.blueprintVersion})`, refusals));
  }
  // A named log group the template adds back (a dedicated cluster's control-plane logs after a time on shared compute)
  // while the one an earlier update removed and kept is still there: its create would fail (retained-log-groups.ts).
  const added = Object.keys(to.logGroupNames).some((id) => !(id in from.logGroupNames));
  if (added) {
    const logs = clientWith(CloudWatchLogsClient, await tenantAccountCredentials(record.accountId!, record.tenantId, 'deploy'));
    const taken = await takenLogGroups(logs, record.tenantId, from.logGroupNames, to.logGroupNames);
    if (taken.length) throw new InvalidRequestError(describeTakenLogGroups(record.tenantId, `tier ${target.tier} at blueprint version ${target.version} (the stack is on tier ${record.tier} at ${record.blueprintVersion})`, taken));
  }
  return { failoverInterim: needsFailoverInterim(from.versions, to.versions) };
}

/**
 * The tenant database's storage and status (DescribeDBInstances of `tessera-<id>`, in the tenant's account with the
 * deploy step's provisioning session, the region its stack runs in). Nothing known when RDS has no such instance.
 */
async function tenantInstanceStorage(record: TenantRecord): Promise<InstanceStorage> {
  const rds = clientWith(RDSClient, await tenantAccountCredentials(record.accountId!, record.tenantId, 'deploy'));
  try {
    const instance = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: databaseInstanceIdentifier(record.tenantId) }))).DBInstances?.[0];
    return { allocatedStorageGiB: instance?.AllocatedStorage, status: instance?.DBInstanceStatus };
  } catch (e) {
    if ((e as Error).name !== 'DBInstanceNotFoundFault') throw e;
    logger.warn('the tenant database is not there: its storage not compared', { tenantId: record.tenantId });
    return {};
  }
}

/**
 * The tenant VPC's zones for this deploy (deployZones, in the tenant's account and the region its stack
 * runs in, with the deploy step's provisioning session), checked whatever the path: refused
 * (InvalidRequest, terminal) before any stack operation when their count is not the zone count of the
 * template deployed (read from it: a pinned older version keeps the count it was published with; the
 * tier's `maxAzs` when the template shows none), when the template lacks `AvailabilityZones` and the
 * zones Fn::GetAZs gives it are not the tenant's (its subnets would move), or when the tier has a
 * dedicated cluster and one is a zone EKS does not support. Zones chosen now (also in place of
 * recorded zones no stack stands on that no longer fit) or read from the standing stack's subnets are
 * recorded (names and IDs) first, so that a retry or a later update passes the same ones and the admin
 * API can refuse up front; standing zones are recorded even when refused. Undefined when the template
 * deployed (`tier` at `version`, read from the blueprint catalog) does not declare `AvailabilityZones`
 * (an older published version places its subnets by Fn::GetAZs): CloudFormation refuses a parameter
 * the template lacks. `template`: the facts of that template (templateFacts), read once by the caller.
 */
async function tenantZones(cfn: CloudFormationClient, record: TenantRecord, target: { tier: string; version: string; stack?: string }, template: TemplateFacts): Promise<string[] | undefined> {
  const declaresZones = template.parameters.includes(AVAILABILITY_ZONES_PARAMETER);
  const tierNow = tierConfig(target.tier);
  const ec2 = clientWith(EC2Client, await tenantAccountCredentials(record.accountId!, record.tenantId, 'deploy'));
  const region = await ec2.config.region();
  const remember = async (found: { zones: Zone[]; source: string; excluded?: unknown; replaced?: string }) => {
    const { zones, source, excluded, replaced } = found;
    const names = zones.map((z) => z.zoneName);
    // Standing and chosen zones; Fn::GetAZs' only in place of recorded ones no stack stands on, where the create puts the subnets.
    const replacing = source === 'getazs' && !!replaced && names.join(',') !== (record.availabilityZones ?? []).join(',');
    if (source !== 'standing' && source !== 'chosen' && !replacing) return;
    // IDs only when EC2 gave one for every zone (the registry's IDs are element for element).
    const ids = zones.every((z) => z.zoneId) ? { availabilityZoneIds: zones.map((z) => z.zoneId) } : { availabilityZoneIds: undefined };
    await updateTenant(record.tenantId, { availabilityZones: names, ...ids });
    logger.info('availability zones recorded', {
      accountId: record.accountId, region, zones, source, ...(excluded ? { excluded } : {}),
      ...(replaced ? { replaced: record.availabilityZones, why: `no stack stands on the recorded zones: ${replaced}` } : {}),
    });
  };
  try {
    const found = await deployZones(ec2, {
      record, tier: target.tier, region, maxAzs: tierNow.network.maxAzs, dedicatedCluster: tierNow.compute.mode === 'dedicated', declaresZones,
      nodeTypes: tierNow.compute.mode === 'dedicated' ? nodeGroups(`tiers.${target.tier}.compute`, tierNow.compute.systemNodes.instanceType, tierNow.compute.gpu).flatMap((g) => g.instanceTypes) : undefined,
      templateZoneCount: template.zoneCount, version: target.version, stands: !!target.stack,
      standing: async () => (target.stack
        ? standingZones(cfn, ec2, target.stack, (subnets) => logger.warn('subnets of the stack not found (drift): skipped, their zone index known from the others', { stack: target.stack, subnets }))
        : undefined),
    });
    await remember(found);
    // Zone IDs of a tenant recorded with names only (the first attempt's records) are added, for the admin API's check.
    if (found.source === 'recorded' && !record.availabilityZoneIds && found.zones.every((z) => z.zoneId)) {
      await updateTenant(record.tenantId, { availabilityZoneIds: found.zones.map((z) => z.zoneId) });
    }
    return declaresZones ? found.zones.map((z) => z.zoneName) : undefined;
  } catch (e) {
    if (e instanceof ZoneRefusal) await remember({ zones: e.found.zones, source: e.found.source });
    throw e;
  }
}

/**
 * Why *Deploy blueprint* (and *Deploy customizations*) waits for an operation it did not start (runningOperation;
 * `undefined`: the stack's events do not show it yet). The StackBusy message is also the failure's reason when the
 * step's retries run out while the operation still runs: it says what the step does (waits, retried for about an hour)
 * and what a failure with it means, not that it is waiting now. An operation whose events carry no ClientRequestToken
 * is said as that: every Tessera call passes one, so it is likely not Tessera's, but an emulator such as moto records
 * none for its own events (an earlier execution's create left CREATE_IN_PROGRESS by a moto crash read so), and the
 * message does not claim more than the events show.
 */
export function describeForeignOperation(name: string, status: string, operation: RunningOperation | undefined): string {
  const whose = !operation ? 'an operation whose stack events are not readable yet'
    : !operation.token ? 'an operation whose stack events carry no ClientRequestToken (Tessera passes one with every call, so likely not Tessera\'s: the AWS CLI or an SDK without one; a CloudFormation emulator such as moto records none)'
      : operation.token.startsWith('Console-') ? `an operation started from the AWS console (ClientRequestToken ${operation.token})`
        : operation.token.startsWith('tessera-') ? `another Tessera execution's operation (ClientRequestToken ${operation.token})`
          : `an operation started by another tool (ClientRequestToken ${operation.token})`;
  const since = operation?.at ? ` since ${new Date(operation.at).toISOString()}` : '';
  return `stack ${name} is ${status}${since}: ${whose}, not this execution's; the step waits for it to end (retried on StackBusy for about an hour: a failure with this reason means it still ran when the retries ran out), then runs this execution's own change set (inspected against the stack as that operation left it)`;
}

/** Records the tenant's DR stack as DEPLOYING (*Check DR blueprint* makes it ACTIVE) with what it is deployed with, keeping its latest restore test. */
async function recordDrStack(record: TenantRecord, name: string, region: string, deployedWith: NonNullable<DisasterRecoveryRecord['deployedWith']>): Promise<void> {
  // A stack updated or created now is not stuck in UPDATE_ROLLBACK_FAILED (Deploy blueprint refuses one): an operator continued its rollback.
  const { updateRollbackFailed: _stuck, ...previous } = record.disasterRecovery ?? { region: undefined };
  await updateTenant(record.tenantId, {
    disasterRecovery: { ...(previous.region === region ? previous : {}), region, stackName: name, status: 'DEPLOYING', updatedAt: new Date().toISOString(), deployedWith },
  });
}

/**
 * What a refusal of the primary's change set must add when this execution already deployed the
 * tenant's DR stack (deployed first, by design): that stack stays where it went.
 */
function drAlreadyMoved(record: TenantRecord, executionArn: string | undefined): string {
  const dr = record.disasterRecovery;
  if (!executionArn || dr?.deployedWith?.executionArn !== executionArn || (dr.deployedWith.tier === record.tier && dr.deployedWith.blueprintVersion === record.blueprintVersion)) return '';
  return `; the tenant's DR stack ${dr.stackName} (${dr.region}) was already deployed by this execution with tier ${dr.deployedWith.tier}, version ${dr.deployedWith.blueprintVersion} (DR stacks go first) and stays so: a DR blueprint works beside the primary of the version before it, as during every upgrade`;
}

/**
 * The way on after a refused change set, as the operator runs it: the same change again with `--allow-replacement`
 * (a change, a repair), the rolling upgrade's `allowReplacement` (or the one tenant's change), and for an onboarding
 * re-run, which cannot be let through (a retry takes no allowReplacement; a change needs an ACTIVE tenant), the offboarding.
 */
function letThrough(tenantId: string, kind: LifecycleKind, change: LifecycleState['change']): string {
  const reason = '--allow-replacement "<reason>"';
  if (kind === 'onboard') {
    return `an onboarding cannot let it through (tessera tenants retry takes no allowReplacement, and a change needs an ACTIVE tenant): to start again, offboard the tenant (tessera tenants delete ${tenantId} --yes: its bucket exported, its database snapshotted) and onboard it anew`;
  }
  const flags = change?.repair ? '--repair' : [change?.tier !== undefined && kind === 'change' ? `--tier ${change.tier}` : '', change?.blueprintVersion !== undefined ? `--blueprint-version ${change.blueprintVersion}` : ''].filter(Boolean).join(' ');
  const one = `tessera tenants update ${tenantId} ${flags} ${reason}`;
  if (kind === 'upgrade') return `to let it through, start the rolling upgrade again with "allowReplacement": { "reason": "<reason>" } in its input (for every tenant of the run), or change this tenant alone: ${one}`;
  return `to let it through, send the change again with a reason: ${one} (admin API: "allowReplacement": { "reason": "<reason>" })`;
}

/**
 * Records what the change-set guard decided: a refusal (ChangeSetRefusal: the resources, the
 * reason; the change set is already deleted) then ChangeRefusedError, which *Record failure* turns
 * into the failure and the `Tenant Lifecycle Failed` event; or the destructive changes an
 * `allowReplacement` let through, with its reason (`allowedReplacements`, the latest 20).
 */
async function recordChangeSet(record: TenantRecord, state: LifecycleState & { kind?: 'change' | 'upgrade' }, stack: string, outcome: ChangeSetOutcome, target: { tier: string; version: string; kind: BlueprintKind }): Promise<void> {
  // An onboarding re-run's update carries no `change` (and no allowReplacement: a replacing update is always refused).
  const kind: LifecycleKind = state.kind ?? (state.change ? 'change' : 'onboard');
  const at = new Date().toISOString();
  const common = { at, kind, executionArn: state.executionArn, requestId: state.request.requestId, stack, changeSetName: outcome.changeSetName };
  if (outcome.outcome === 'REFUSED') {
    const reason = `change set ${outcome.changeSetName} would replace or remove ${outcome.refused.length} stateful resource${outcome.refused.length === 1 ? '' : 's'} of stack ${stack}: ${outcome.refused.map(describeDestructive).join('; ')}; refused (the change set is deleted, the stack untouched)${target.kind === 'dr' ? '' : drAlreadyMoved(record, state.executionArn)}; ${letThrough(record.tenantId, kind, state.change)}`;
    await updateTenant(record.tenantId, { changeSetRefusal: { ...common, tier: target.tier, blueprintVersion: target.version, reason, resources: outcome.refused } });
    logger.warn('change set refused', { stack, resources: outcome.refused });
    throw new ChangeRefusedError(reason);
  }
  if (outcome.outcome !== 'UNCHANGED' && outcome.allowed.length && state.change?.allowReplacement) {
    const now = await requireTenant(record.tenantId);
    if ((now.allowedReplacements ?? []).some((a) => a.changeSetName === outcome.changeSetName)) return;
    const entry = { ...common, reason: state.change.allowReplacement.reason, resources: outcome.allowed };
    await updateTenant(record.tenantId, { allowedReplacements: [...(now.allowedReplacements ?? []), entry].slice(-20) });
    logger.warn('destructive change allowed', { stack, reason: entry.reason, resources: outcome.allowed });
  }
}
