import { CreateStackCommand, DeleteStackCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { customizationFileName, customizationStackName, type AccountCustomization } from '../../lib/config/account-customizations.js';
import type { CustomizationRecord, TenantRecord } from '../../lib/tenant-record.js';
import { ENV, platformConfig, requireEnv, tierConfig } from '../shared/environment.js';
import { ChangeRefusedError, StackBusyError, StackFailedError, StackNotOwnedError } from '../shared/errors.js';
import { logger } from '../shared/handler.js';
import { notServiceAnswer, unparsedAnswer } from '../shared/unparsed-answer.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { holdLeaseFor } from './stack-operation-lease.js';
import { customizationsRoleArn, describeStack } from './blueprints.js';
import { describeDestructive, updateThroughChangeSet } from './change-set-guard.js';
import { describeForeignOperation, requestToken, stackLifter } from './deploy-blueprint.js';
import { continueRollbackAdvice, firstFailure, runningOperation } from './stack-events.js';
import { COMPONENT_TAG, ownershipProblem, tenantStackTags } from './stack-ownership.js';
import { type LifecycleState, tenantTagsOf } from './state.js';
import { deleteStackTarget, deleteStackToken } from './delete-token.js';
import { stackTierAndVersion } from './stack-tags.js';

/** `tessera:component` of a customization stack: `account-customization`. */
export const CUSTOMIZATION_COMPONENT = 'account-customization';

/** The customizations `tier` deploys (tiers.<tier>.accountCustomizations), in config order; none for a `vpc` tier. */
export function tierCustomizations(tier: string): readonly AccountCustomization[] {
  const t = tierConfig(tier);
  return t.isolation === 'account' ? t.accountCustomizations ?? [] : [];
}

/**
 * The catalog URL of a tier's customization template: `blueprints/<platform version>/customizations/<tier>/<name>.template.json`.
 * Always the platform's own version (ENV.blueprintVersion), whatever blueprint version a change or upgrade deploys: the
 * customizations are the current config's, and only the deployment that runs this code is sure to have published them.
 */
export function customizationTemplateUrl(tier: string, name: string): string {
  const bucket = requireEnv(ENV.blueprintBucket);
  const region = process.env.AWS_REGION ?? platformConfig().homeRegion;
  return `https://${bucket}.s3.${region}.amazonaws.com/blueprints/${requireEnv(ENV.blueprintVersion)}/${customizationFileName(tier, name)}`;
}

/** Writes `name`'s entry of the registry's `customizations` (the rest kept as they are). */
export async function recordCustomization(tenantId: string, name: string, entry: Omit<CustomizationRecord, 'updatedAt'>): Promise<void> {
  const now = await requireTenant(tenantId);
  await updateTenant(tenantId, { customizations: { ...now.customizations, [name]: { ...entry, updatedAt: new Date().toISOString() } } });
}

/**
 * The reason to record when CloudFormation could not read a customization's template from the catalog, or undefined
 * for any other error. CreateStack and CreateChangeSet answer a TemplateURL whose object is missing or unreadable with
 * ValidationError "S3 error: The specified key does not exist.\nFor more information check
 * http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html" (or "S3 error: Access Denied …"); S3's own
 * NoSuchKey is taken too. The reason names the bucket and the key (`templateUrl`'s), and what publishes them.
 */
export function templateReadProblem(e: unknown, name: string, templateUrl: string): string | undefined {
  const { name: code, message } = e as Error;
  if (!(code === 'NoSuchKey' || (code === 'ValidationError' && /^S3 error:/.test(message ?? '')))) return undefined;
  const { hostname, pathname } = new URL(templateUrl);
  const where = `s3://${hostname.split('.s3.')[0]}/${decodeURIComponent(pathname.slice(1))}`;
  return `customization ${name}: CloudFormation could not read its template ${where} (${code}: ${(message ?? '').split('\n')[0]}): `
    + 'the blueprint catalog has no such object; deploying the platform (cdk deploy) from a config that lists this customization publishes it, then retry the tenant';
}

/**
 * What to record, and throw, for a CreateStack of customization `name`'s stack `stack` that failed otherwise than
 * AlreadyExists or an unreadable template (templateReadProblem): the reason `customization <name>: CreateStack of stack
 * <stack> failed: <error>: <its message's first line>; …`, and the error itself, so that the step's retries (Throttling,
 * a server fault) apply as before. An answer the SDK could not parse (unparsedAnswer: an HTML page for HTTP 500, such as
 * an emulator that crashed on the template, or a proxy) is said as the endpoint and its HTTP status, not as the XML
 * parser's words, and thrown as StackFailed with that reason: the same call would meet the same answer. Whether
 * CloudFormation started the create before the error is not known; the next attempt finds the stack if it did.
 */
export function createRefusal(e: unknown, name: string, stack: string): { reason: string; error: unknown } {
  const answer = unparsedAnswer(e);
  const what = answer ? notServiceAnswer('CloudFormation', 'CloudFormation', answer, 'the platform') : `${(e as Error).name}: ${String((e as Error).message ?? '').split('\n')[0]}`;
  const reason = `customization ${name}: CreateStack of stack ${stack} failed: ${what}; whether CloudFormation started the create is not known (the next attempt finds the stack if it did)`;
  return { reason, error: answer ? new StackFailedError(reason) : e };
}

const DONE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE']);
const STUCK = new Set(['ROLLBACK_FAILED', 'DELETE_FAILED', 'UPDATE_ROLLBACK_FAILED', 'CREATE_FAILED']);

/**
 * One step of one customization (*Deploy customizations* calls it for each in turn): COMPLETE when the stack stands at
 * this execution's template and parameters, IN_PROGRESS after starting (or while waiting for) this execution's create
 * or update. `started`: the previous call of this execution started an operation on it.
 * - no stack: CreateStack as the account customizations role (RoleARN, customizationsRoleArn), termination protection on, the tenant stack's tags
 *   plus `tessera:component` account-customization, this execution's ClientRequestToken; recorded DEPLOYING once taken,
 *   FAILED with CloudFormation's answer when the call fails (createRefusal);
 * - a template CloudFormation cannot read from the catalog (CreateStack or CreateChangeSet): recorded FAILED and
 *   StackFailed, naming the bucket and key (templateReadProblem);
 * - a stack of the name that Tessera's workflow did not make for this tenant (stack-ownership.ts): StackNotOwned;
 * - in progress: ours (its events carry our token) waited for; anyone else's: StackBusy (retried);
 * - complete: once `started`, recorded ACTIVE; otherwise updated through the change-set guard (updateThroughChangeSet,
 *   with the change's allowReplacement): UNCHANGED is ACTIVE, a refusal is recorded FAILED and ChangeRefused;
 * - an update that left the stack as it stood (refused, template unreadable, UPDATE_ROLLBACK_COMPLETE): recorded FAILED with the
 *   tier and version the stack still runs (its tags), not the ones attempted, and the reason saying so;
 * - ROLLBACK_COMPLETE or UPDATE_ROLLBACK_COMPLETE after our operation: recorded FAILED with the first failed
 *   resource's reason (stack-events.ts firstFailure), StackFailed. A ROLLBACK_COMPLETE left by an earlier execution
 *   holds nothing: its protection lifted on record (stackLifter), deleted, StackBusy (created again once gone);
 * - stuck (ROLLBACK_FAILED, UPDATE_ROLLBACK_FAILED, DELETE_FAILED, CREATE_FAILED): recorded FAILED, StackFailed with the way out.
 */
export async function applyCustomization(cfn: CloudFormationClient, record: TenantRecord, state: LifecycleState & { kind?: 'change' | 'upgrade' }, tier: string, entry: AccountCustomization, started: boolean): Promise<'COMPLETE' | 'IN_PROGRESS'> {
  const name = customizationStackName(record.tenantId, entry.name);
  const version = requireEnv(ENV.blueprintVersion);
  const token = requestToken(state, `custom-${entry.name}`);
  const recordAs = (status: CustomizationRecord['status'], reason?: string, runs = { tier, blueprintVersion: version }) => recordCustomization(record.tenantId, entry.name, { stackName: name, status, ...runs, ...(reason ? { reason } : {}) });
  const fail = async (reason: string): Promise<never> => {
    await recordAs('FAILED', reason);
    throw new StackFailedError(reason);
  };
  const existing = await describeStack(cfn, name);
  /**
   * An update that left the stack as it stood (a change set refused by the guard or whose template CloudFormation could
   * not read: nothing executed; an update rolled back: UPDATE_ROLLBACK_COMPLETE, its tags rolled back with it): recorded
   * FAILED (the last deployment failed) with the tier and version the stack still runs, from its own tags, and the reason
   * saying so. Before, the entry named the tier and version the update attempted, which the stack never reached.
   */
  const standsOn = () => {
    const standing = stackTierAndVersion(existing);
    const runs = { tier: standing.tier ?? tier, blueprintVersion: standing.version ?? version };
    const attempted = runs.tier !== tier || runs.blueprintVersion !== version ? ` (the update to tier ${tier}, version ${version} did not take)` : '';
    return { runs, note: `; stack ${name} still runs tier ${runs.tier}'s template at version ${runs.blueprintVersion}${attempted}` };
  };
  const failStanding = async (reason: string, error: (message: string) => Error = (m) => new StackFailedError(m)): Promise<never> => {
    const { runs, note } = standsOn();
    await recordAs('FAILED', reason + note, runs);
    throw error(reason);
  };
  if (existing) {
    const notOurs = ownershipProblem(existing, record, 'customization');
    if (notOurs) throw new StackNotOwnedError(`stack ${name} (${existing.StackId ?? 'no id'}, ${existing.StackStatus}) exists in account ${record.accountId} but was not created by Tessera's workflow for tenant ${record.tenantId}: ${notOurs}; Tessera never adopts, updates or deletes a stack it did not create — remove or rename that stack, then retry the tenant`);
  }
  const input = {
    StackName: name,
    TemplateURL: customizationTemplateUrl(tier, entry.name),
    Parameters: Object.entries(entry.parameters ?? {}).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
    // A platform team's template may create IAM resources (named or not) and use a transform (AWS::Serverless and the like).
    Capabilities: ['CAPABILITY_IAM' as const, 'CAPABILITY_NAMED_IAM' as const, 'CAPABILITY_AUTO_EXPAND' as const],
    Tags: [...tenantStackTags({ ...record, tags: tenantTagsOf(state, record) }, tier, version, state.executionArn, existing), { Key: COMPONENT_TAG, Value: CUSTOMIZATION_COMPONENT }],
    RoleARN: customizationsRoleArn(record.accountId!),
  };
  if (!existing) {
    // Outside the create's try: a lost lease is the step's error as it is (the operation not started), not a create
    // CloudFormation refused, recorded FAILED (a write the lost lease refuses, its TenantBusy naming no operation).
    await holdLeaseFor(record.tenantId, `CreateStack of stack ${name}`);
    try {
      await cfn.send(new CreateStackCommand({ ...input, EnableTerminationProtection: true, OnFailure: 'ROLLBACK', ClientRequestToken: token }));
    } catch (e) {
      const unreadable = templateReadProblem(e, entry.name, input.TemplateURL);
      if (unreadable) return fail(unreadable);
      if ((e as Error).name !== 'AlreadyExistsException') {
        // Recorded FAILED with what CloudFormation answered: before, a create that threw left no entry at all, and
        // `tessera tenants show` printed no line for the customization that failed. A retried step that then creates it
        // records DEPLOYING over it.
        const { reason: why, error } = createRefusal(e, entry.name, name);
        await recordAs('FAILED', why);
        throw error;
      }
    }
    // DEPLOYING once CloudFormation took the create (not before: a refused create left it DEPLOYING on a FAILED tenant).
    await recordAs('DEPLOYING');
    return 'IN_PROGRESS';
  }
  const status = existing.StackStatus ?? '';
  const reason = async () => (await firstFailure(cfn, existing.StackId ?? name)) ?? existing.StackStatusReason ?? 'no reason reported';
  if (status.endsWith('_IN_PROGRESS')) {
    if (status.startsWith('DELETE')) throw new StackBusyError(`stack ${name} is being deleted; deploying again once it is gone`);
    const operation = await runningOperation(cfn, existing);
    if (operation?.token !== token) throw new StackBusyError(describeForeignOperation(name, status, operation));
    return 'IN_PROGRESS';
  }
  if (STUCK.has(status)) {
    const advice = status === 'UPDATE_ROLLBACK_FAILED' ? continueRollbackAdvice(name) : 'delete it by hand (DeleteStack with RoleARN tessera-account-customizations), then retry the tenant';
    return fail(`customization ${entry.name}: stack ${name} is ${status}: ${await reason()}; ${advice}`);
  }
  if (status === 'ROLLBACK_COMPLETE') {
    if (started) return fail(`customization ${entry.name}: stack ${name} is ROLLBACK_COMPLETE (its create failed): ${await reason()}`);
    await stackLifter(cfn, record, state, { step: 'Deploy customizations', reason: 'customization stack ROLLBACK_COMPLETE from an earlier attempt: lifted so that it can be deleted and created again' })(existing);
    await holdLeaseFor(record.tenantId, `DeleteStack of stack ${name}`);
    await cfn.send(new DeleteStackCommand({ StackName: deleteStackTarget(existing), RoleARN: customizationsRoleArn(record.accountId!), ClientRequestToken: deleteStackToken(state.executionArn ?? state.request.requestId, existing, 'Deploy customizations') }));
    throw new StackBusyError(`stack ${name} is ROLLBACK_COMPLETE from an earlier attempt; deleted it, creating it again once it is gone`);
  }
  if (started && status === 'UPDATE_ROLLBACK_COMPLETE') return failStanding(`customization ${entry.name}: stack ${name} is UPDATE_ROLLBACK_COMPLETE (its update failed and was rolled back): ${await reason()}`);
  if (started && DONE.has(status)) {
    await recordAs('ACTIVE');
    return 'COMPLETE';
  }
  // Complete (or back on its previous template) from an earlier execution: this execution's template and parameters, through the guard.
  const outcome = await updateThroughChangeSet(cfn, {
    input, token, allowReplacement: state.change?.allowReplacement,
    beforeExecute: (changeSetName) => holdLeaseFor(record.tenantId, `ExecuteChangeSet of change set ${changeSetName} on stack ${name}`),
  }).catch((e: unknown) => {
    const unreadable = templateReadProblem(e, entry.name, input.TemplateURL);
    return unreadable ? failStanding(unreadable) : Promise.reject(e);
  });
  if (outcome.outcome === 'REFUSED') {
    const why = `customization ${entry.name}: change set ${outcome.changeSetName} would replace or remove ${outcome.refused.length} stateful resource${outcome.refused.length === 1 ? '' : 's'} of stack ${name}: ${outcome.refused.map(describeDestructive).join('; ')}; refused (the change set is deleted, the stack untouched); send the change again with allowReplacement and a reason to let it through`;
    return failStanding(why, (m) => new ChangeRefusedError(m));
  }
  if (outcome.outcome === 'UNCHANGED') {
    await recordAs('ACTIVE');
    return 'COMPLETE';
  }
  await recordAs('DEPLOYING');
  logger.info('customization updated', { stack: name, changeSet: outcome.changeSetName, outcome: outcome.outcome });
  return 'IN_PROGRESS';
}

/** Names of the customization stacks the tenant may have: those its registry records (not DELETED) and those its tier lists. */
export function customizationNames(record: TenantRecord): string[] {
  const recorded = Object.entries(record.customizations ?? {}).filter(([, c]) => c.status !== 'DELETED').map(([n]) => n);
  let listed: string[] = [];
  try {
    listed = tierCustomizations(record.tier).map((c) => c.name);
  } catch {
    // A tier no longer in the config: the registry's list is all there is.
  }
  return [...new Set([...recorded, ...listed])];
}

/** Whether `stack` is absent or deleted. */
export const gone = (stack: Stack | undefined) => !stack || stack.StackStatus === 'DELETE_COMPLETE';
