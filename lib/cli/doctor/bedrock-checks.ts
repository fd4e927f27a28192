import { GetFoundationModelAvailabilityCommand, type GetFoundationModelAvailabilityCommandOutput } from '@aws-sdk/client-bedrock';
import { foundationModelId } from '../../bedrock-models.js';
import { describeAwsError, isNotFound } from '../aws-errors.js';
import { grantOrRerun, result, unreadable } from './results.js';
import type { AccountClients, CheckResult, DoctorContext } from './types.js';

export { foundationModelId };

/** The console page where model access is requested, for the Region. */
export const modelAccessPage = (region: string) => `https://${region}.console.aws.amazon.com/bedrock/home?region=${region}#/modelaccess`;

/**
 * Check 6: each `bedrock/` model of `gateway.models` is usable in the platform account and Region:
 * GetFoundationModelAvailability says AUTHORIZED, entitlement AVAILABLE and Region AVAILABLE
 * (an agreement still PENDING is a warning; one in ERROR or NOT_AVAILABLE a failure only when the
 * rest does not already pass, since models without an offer report NOT_AVAILABLE). Then the same for each
 * Bedrock deployment's region (`gateway.models[].deployments[].region`, where the router calls that deployment's
 * model): one line per region and foundation model not already checked, id `bedrock-model:<catalog id>@<region>`.
 * Calls (platform account): bedrock:GetFoundationModelAvailability, in the Region and in each deployment's.
 */
export async function bedrockChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const models = ctx.config.gateway.models.filter((m) => m.id.startsWith('bedrock/'));
  const account = ctx.config.platformAccountId;
  if (models.length === 0) return [result('bedrock-models', 'Bedrock model access', 'pass', 'no bedrock/ model in gateway.models', { account, region: ctx.region })];
  const access = await ctx.clientsIn(account);
  const targets: ModelTarget[] = models.map((m) => ({ id: `bedrock-model:${m.id}`, entry: m.id, upstream: m.upstream, region: ctx.region, home: true }));
  const seen = new Set(targets.map((t) => `${t.region}|${foundationModelId(t.upstream).modelId}`));
  for (const m of models) {
    for (const d of m.deployments ?? []) {
      if (d.region === undefined) continue;
      const upstream = d.upstream ?? m.upstream;
      const key = `${d.region}|${foundationModelId(upstream).modelId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      targets.push({ id: `bedrock-model:${m.id}@${d.region}`, entry: m.id, upstream, region: d.region, home: false, deployment: d.name });
    }
  }
  return Promise.all(targets.map((t) => checkModel(account, access, t)));
}

/** One GetFoundationModelAvailability to make: a catalog entry's model in the Region, or a deployment's in its own. */
interface ModelTarget {
  /** The line's id: `bedrock-model:<catalog id>`, or `…@<region>` for a deployment's region. */
  readonly id: string;
  /** The catalog id (`gateway.models[].id`). */
  readonly entry: string;
  /** The model or inference-profile id the router calls. */
  readonly upstream: string;
  readonly region: string;
  /** The Region doctor checks (`--region`, default homeRegion): the line keeps its title and id of before. */
  readonly home: boolean;
  /** The deployment whose region this is (the first one, when several share region and model). */
  readonly deployment?: string;
}

/** The availability line of one model in one Region of the platform account (bedrockChecks' rules). */
async function checkModel(account: string, access: AccountClients, t: ModelTarget): Promise<CheckResult> {
  const { region } = t;
  const where = { account, region };
  const { modelId, profilePrefix } = foundationModelId(t.upstream);
  const id = t.id;
  const title = t.home ? `Bedrock ${modelId}` : `Bedrock ${modelId} in ${region}`;
  const of = t.deployment === undefined ? '' : ` (deployment "${t.deployment}" of ${t.entry})`;
  const note = of + (profilePrefix ? ` (upstream ${t.upstream} is a "${profilePrefix}." cross-region inference profile: checked its foundation model)` : '');
  const fix = `in account ${account}, open the Bedrock console's Model access page (${modelAccessPage(region)}) and request access to`;
  const correct = t.deployment === undefined ? `correct gateway.models "${t.entry}" upstream` : `correct deployment "${t.deployment}" of gateway.models "${t.entry}" (its upstream or region)`;
  if (!access.ok) return unreadable(id, title, access, account, region);
  let a: GetFoundationModelAvailabilityCommandOutput;
  try {
    const bedrock = t.home ? access.clients.bedrock : access.clients.bedrockIn(region);
    a = await bedrock.send(new GetFoundationModelAvailabilityCommand({ modelId }));
  } catch (e) {
    if (isNotFound(e) || (e as Error).name === 'ValidationException') {
      return result(id, title, 'fail', `${describeAwsError('bedrock:GetFoundationModelAvailability', e)}: no such model in ${region}${note}`, { ...where, fix: `${correct} (aws bedrock list-foundation-models --region ${region}), or choose a Region that offers it` });
    }
    return result(id, title, 'fail', describeAwsError('bedrock:GetFoundationModelAvailability', e) + note, {
      ...where, fix: grantOrRerun(e, `grant bedrock:GetFoundationModelAvailability to ${access.via}`, `in account ${account}: aws bedrock get-foundation-model-availability --model-id ${modelId} --region ${region}`),
    });
  }
  const state = `authorization ${a.authorizationStatus}, entitlement ${a.entitlementAvailability}, region ${a.regionAvailability}, agreement ${a.agreementAvailability?.status ?? 'none'}`;
  if (a.regionAvailability !== 'AVAILABLE') {
    return result(id, title, 'fail', `not offered in ${region}: ${state}${note}`, { ...where, fix: `use a model Bedrock offers in ${region} (aws bedrock list-foundation-models --region ${region}) or a cross-region inference profile` });
  }
  if (a.authorizationStatus !== 'AUTHORIZED' || a.entitlementAvailability !== 'AVAILABLE') {
    return result(id, title, 'fail', `no model access: ${state}${note}`, { ...where, fix: `${fix} ${modelId}` });
  }
  if (a.agreementAvailability?.status === 'PENDING') {
    return result(id, title, 'warn', `access granted but the model agreement is PENDING: ${state}${note}`, { ...where, fix: `wait for the agreement, or check it on ${modelAccessPage(region)}` });
  }
  if (a.agreementAvailability?.status === 'ERROR') {
    return result(id, title, 'fail', `the model agreement failed: ${a.agreementAvailability.errorMessage ?? state}${note}`, { ...where, fix: `${fix} ${modelId} again` });
  }
  return result(id, title, 'pass', `usable: ${state}${note}`, where);
}
