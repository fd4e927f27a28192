import { UpdateStackCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { DATABASE_DELETION_PROTECTION_PARAMETER } from '../../lib/tenant-naming.js';
import { ENV, requireEnv, tierConfig } from '../shared/environment.js';
import { StackFailedError } from '../shared/errors.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { holdLeaseFor } from './stack-operation-lease.js';
import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import { retainedDr } from './dr-tier-standing.js';
import { baselineParameters, cloudFormationFor, compareVersions, describeStack, drRegionFor, stackName, templateUrl, VERSION_TAG, type BlueprintKind } from './blueprints.js';
import { deployBaseline, requestToken, stackLifter } from './deploy-blueprint.js';
import { assertOwned } from './stack-ownership.js';
import { pendingFailoverInterim } from './cache-failover-interim.js';
import { awaitedChangeSet } from './executed-change-set.js';
import { continueRollbackAdvice, firstFailure, stackBusy } from './stack-events.js';
import type { LifecycleState } from './state.js';

const DONE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE']);

/** The stack's `DatabaseDeletionProtection` parameter value; undefined for a blueprint without it. */
const databaseProtection = (stack: Stack) => stack.Parameters?.find((p) => p.ParameterKey === DATABASE_DELETION_PROTECTION_PARAMETER)?.ParameterValue;

/**
 * Switches the database's deletion protection on for a tenant stack created without it: one
 * UpdateStack with the previous template, every other parameter at its previous value, the
 * parameter `true`, and the stack's own role. Another change already running is waited for.
 */
async function protectDatabase(cfn: CloudFormationClient, stack: Stack): Promise<void> {
  try {
    await cfn.send(new UpdateStackCommand({
      StackName: stack.StackName,
      UsePreviousTemplate: true,
      Parameters: (stack.Parameters ?? []).map((p) => (p.ParameterKey === DATABASE_DELETION_PROTECTION_PARAMETER
        ? { ParameterKey: p.ParameterKey, ParameterValue: 'true' }
        : { ParameterKey: p.ParameterKey, UsePreviousValue: true })),
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      RoleARN: stack.RoleARN,
    }));
  } catch (e) {
    if (!stackBusy(e)) throw e;
  }
}

/**
 * Polls the stack; on success records the tenant stack's outputs in the registry, and a DR stack
 * (`dr`, in the tier's DR region) as ACTIVE in `disasterRecovery`; a DR stack that failed is named
 * with its region (`stack tessera-<id>-dr in <region> is ROLLBACK_COMPLETE: …`). A tier change to a tier without
 * DR leaves the tenant's DR stack in place and records it RETAINED (removed at offboarding).
 *
 * A tenant stack is complete only with its database protected: *Deploy blueprint* creates it with
 * `DatabaseDeletionProtection=false` (a failed create must be able to roll the database back), so
 * a complete stack whose parameter is still `false` gets the update that switches it on
 * (protectDatabase) and the step reports IN_PROGRESS until that update is complete. The
 * step's output (`protecting`) in the execution history says so; the stack parameter is the
 * record. Should that update roll back, the step fails naming the reason.
 *
 * The stack's status is taken as the outcome of the change set *Deploy blueprint* executed (its answer, `deploy`) only
 * once that change set's update shows (awaitedChangeSet: its ExecutionStatus ended, the read not older than it); before,
 * IN_PROGRESS (`awaiting`): ExecuteChangeSet only starts the update and DescribeStacks is eventually consistent, so a read
 * right after it may show the stack's previous UPDATE_COMPLETE. For a tenant, DR and namespace stack, and each of the
 * two updates of an interim deploy (cache-failover-interim.ts).
 *
 * The account baseline is shared by every tenant of its account, so its state may come from
 * another onboarding: it is ready when it is complete at the target version or newer (its
 * `tessera:blueprint-version` tag). A baseline completed by someone else at an older version is
 * updated from here (IN_PROGRESS); an update that rolled back is fine when the version the stack
 * is back on is still new enough.
 */
export const handler = lifecycleHandler('Check blueprint', async (state: LifecycleState) => {
  const kind: BlueprintKind = state.blueprint ?? 'tenant';
  const record = await requireTenant(state.request.tenantId);
  const drRegion = kind === 'dr' ? drRegionFor(record, state.change?.tier ?? record.tier) : undefined;
  const cfn = await cloudFormationFor(record, kind, 'check', drRegion);
  const name = stackName(record.tenantId, kind);
  // A DR stack is named with its region: the failure recorded says which region's stack failed.
  const where = drRegion ? `${name} in ${drRegion}` : name;
  const stack = await describeStack(cfn, name);
  if (!stack) throw new StackFailedError(`stack ${where} does not exist`);
  if (kind !== 'baseline') assertOwned(stack, record, kind);
  const status = stack.StackStatus!;
  // A final status read before the update of the change set Deploy blueprint executed had started: the stack as it was (executed-change-set.ts).
  const awaited = status.endsWith('_IN_PROGRESS') ? undefined : await awaitedChangeSet(cfn, stack, state.deploy);
  if (awaited) {
    logger.info('the stack read does not show the executed change set\'s update yet', { stack: where, status, ...awaited });
    return { state: 'IN_PROGRESS' as const, status, awaiting: awaited };
  }
  if (kind === 'baseline' && (DONE.has(status) || status === 'UPDATE_ROLLBACK_COMPLETE')) {
    const tier = state.change?.tier ?? record.tier;
    const target = state.change?.blueprintVersion ?? requireEnv(ENV.blueprintVersion);
    const current = stack.Tags?.find((t) => t.Key === VERSION_TAG)?.Value ?? '0';
    if (compareVersions(current, target) >= 0) return { state: 'COMPLETE' as const, status, version: current };
    if (status === 'UPDATE_ROLLBACK_COMPLETE') {
      throw new StackFailedError(`stack ${name} is ${status} at version ${current} (needs ${target}): ${(await firstFailure(cfn, name)) ?? stack.StackStatusReason ?? 'no reason reported'}`);
    }
    const action = await deployBaseline(cfn, {
      url: templateUrl(tier, kind, target), version: target, token: requestToken(state, 'baseline', `v${target.replace(/[^a-zA-Z0-9]/g, '-')}`),
      // Deploy blueprint's parameters: an update without them sets the customizations role's parameter to its empty default (no role).
      parameters: await baselineParameters(record, tier, target),
      // Met here only if the baseline turned ROLLBACK_COMPLETE since it was read complete: its lift recorded as Deploy blueprint's.
      liftTermination: stackLifter(cfn, record, state, { step: 'Check blueprint', reason: 'account baseline ROLLBACK_COMPLETE: lifted so that the stack can be deleted and created again' }),
      beforeStackOperation: (operation) => holdLeaseFor(record.tenantId, operation),
    });
    // Nothing to change (same template) or someone went newer meanwhile: ready as it is.
    if (action === 'UNCHANGED' || action === 'NEWER') return { state: 'COMPLETE' as const, status, version: current };
    return { state: 'IN_PROGRESS' as const, status, action };
  }
  if (DONE.has(status)) {
    if (kind === 'tenant' && databaseProtection(stack) === 'false') {
      await holdLeaseFor(record.tenantId, `UpdateStack (${DATABASE_DELETION_PROTECTION_PARAMETER}=true) of stack ${name}`);
      await protectDatabase(cfn, stack);
      logger.info('switching the database deletion protection on', { stack: name, status });
      return { state: 'IN_PROGRESS' as const, status, protecting: DATABASE_DELETION_PROTECTION_PARAMETER };
    }
    if (kind === 'tenant') {
      const outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue ?? '']));
      // What the stack now is: its outputs, its version and (after a tier change) its tier, so the
      // registry agrees with the stack even if a later step of the change fails.
      // A tenant moved to a tier without DR keeps its DR stack (and the data in it) until offboarding: RETAINED, and its DR
      // bucket, no longer replicated into, stops being a replica of the tenant bucket (replicationStoppedAt).
      const now = new Date().toISOString();
      const drLeft = state.change?.tier && record.disasterRecovery && ['ACTIVE', 'DEPLOYING'].includes(record.disasterRecovery.status) && !drRegionOf(tierConfig(state.change.tier));
      // The change set this execution marked on its lease before executing it (stack-operation-lease.ts) has completed and is
      // recorded here: the mark goes, or a stop at a later step (the DR stack's deploy, under the same lease) recorded the
      // tenant stack as still updating (marked-stack-update.ts) to the version recorded here.
      const { stackUpdate: _completed, ...lease } = record.lease ?? {};
      const unmarked = record.lease?.stackUpdate && record.lease.executionArn === state.executionArn ? { lease: lease as NonNullable<typeof record.lease> } : {};
      await updateTenant(record.tenantId, {
        ...unmarked,
        stackOutputs: outputs,
        blueprintVersion: outputs.BlueprintVersion ?? state.change?.blueprintVersion ?? requireEnv(ENV.blueprintVersion),
        ...(state.change?.tier ? { tier: outputs.Tier ?? state.change.tier } : {}),
        ...(drLeft ? { disasterRecovery: retainedDr(record.disasterRecovery!, now) } : {}),
      });
    }
    if (kind === 'dr') {
      const { updateRollbackFailed: _stuck, ...dr } = record.disasterRecovery ?? {};
      // The DR stack's change set this execution marked on its lease has completed: the mark goes, as the tenant stack's above.
      const { stackUpdate: _completed, ...lease } = record.lease ?? {};
      const unmarked = record.lease?.stackUpdate?.stack === name && record.lease.executionArn === state.executionArn ? { lease: lease as NonNullable<typeof record.lease> } : {};
      await updateTenant(record.tenantId, { ...unmarked, disasterRecovery: { ...dr, region: drRegion!, stackName: name, status: 'ACTIVE', updatedAt: new Date().toISOString() } });
    }
    return { state: 'COMPLETE' as const, status };
  }
  // Creating, updating or rolling back: wait for the final state.
  if (status.endsWith('_IN_PROGRESS')) return { state: 'IN_PROGRESS' as const, status };
  const found = (await firstFailure(cfn, name)) ?? stack.StackStatusReason ?? 'no reason reported';
  // A failure of the interim update Deploy blueprint ran before the target (cache-failover-interim.ts) says so.
  const interim = kind === 'tenant' ? pendingFailoverInterim(record, state.executionArn) : undefined;
  const reason = interim ? `${found} (the interim update, before the target template: ${interim.what}, ${interim.templateUrl}; the target template was not deployed)` : found;
  if (kind === 'tenant' && databaseProtection(stack) === 'false' && status.startsWith('UPDATE_ROLLBACK')) {
    throw new StackFailedError(`stack ${name} is ${status}: the update that switches the database's deletion protection on (${DATABASE_DELETION_PROTECTION_PARAMETER}=true) rolled back: ${reason}`);
  }
  if (status === 'UPDATE_ROLLBACK_FAILED') throw new StackFailedError(`stack ${where} is ${status}: ${reason}; ${continueRollbackAdvice(name, drRegion)}`);
  throw new StackFailedError(`stack ${where} is ${status}: ${reason}`);
});
