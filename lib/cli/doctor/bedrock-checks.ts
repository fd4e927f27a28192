import { GetFoundationModelAvailabilityCommand, type GetFoundationModelAvailabilityCommandOutput } from '@aws-sdk/client-bedrock';
import { foundationModelId } from '../../bedrock-models.js';
import { describeAwsError, isNotFound } from '../aws-errors.js';
import { grantOrRerun, result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

export { foundationModelId };

/** The console page where model access is requested, for the Region. */
export const modelAccessPage = (region: string) => `https://${region}.console.aws.amazon.com/bedrock/home?region=${region}#/modelaccess`;

/**
 * Check 6: each `bedrock/` model of `gateway.models` is usable in the platform account and Region:
 * GetFoundationModelAvailability says AUTHORIZED, entitlement AVAILABLE and Region AVAILABLE
 * (an agreement still PENDING is a warning; one in ERROR or NOT_AVAILABLE a failure only when the
 * rest does not already pass, since models without an offer report NOT_AVAILABLE).
 * Calls (platform account): bedrock:GetFoundationModelAvailability.
 */
export async function bedrockChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const models = ctx.config.gateway.models.filter((m) => m.id.startsWith('bedrock/'));
  const account = ctx.config.platformAccountId;
  const where = { account, region: ctx.region };
  if (models.length === 0) return [result('bedrock-models', 'Bedrock model access', 'pass', 'no bedrock/ model in gateway.models', where)];
  const access = await ctx.clientsIn(account);
  const fix = `in account ${account}, open the Bedrock console's Model access page (${modelAccessPage(ctx.region)}) and request access to`;
  return Promise.all(models.map(async (m) => {
    const { modelId, profilePrefix } = foundationModelId(m.upstream);
    const id = `bedrock-model:${m.id}`;
    const title = `Bedrock ${modelId}`;
    const note = profilePrefix ? ` (upstream ${m.upstream} is a "${profilePrefix}." cross-region inference profile: checked its foundation model)` : '';
    if (!access.ok) return unreadable(id, title, access, account, ctx.region);
    let a: GetFoundationModelAvailabilityCommandOutput;
    try {
      a = await access.clients.bedrock.send(new GetFoundationModelAvailabilityCommand({ modelId }));
    } catch (e) {
      if (isNotFound(e) || (e as Error).name === 'ValidationException') {
        return result(id, title, 'fail', `${describeAwsError('bedrock:GetFoundationModelAvailability', e)}: no such model in ${ctx.region}${note}`, { ...where, fix: `correct gateway.models "${m.id}" upstream (aws bedrock list-foundation-models --region ${ctx.region}), or choose a Region that offers it` });
      }
      return result(id, title, 'fail', describeAwsError('bedrock:GetFoundationModelAvailability', e) + note, {
        ...where, fix: grantOrRerun(e, `grant bedrock:GetFoundationModelAvailability to ${access.via}`, `in account ${account}: aws bedrock get-foundation-model-availability --model-id ${modelId} --region ${ctx.region}`),
      });
    }
    const state = `authorization ${a.authorizationStatus}, entitlement ${a.entitlementAvailability}, region ${a.regionAvailability}, agreement ${a.agreementAvailability?.status ?? 'none'}`;
    if (a.regionAvailability !== 'AVAILABLE') {
      return result(id, title, 'fail', `not offered in ${ctx.region}: ${state}${note}`, { ...where, fix: `use a model Bedrock offers in ${ctx.region} (aws bedrock list-foundation-models --region ${ctx.region}) or a cross-region inference profile` });
    }
    if (a.authorizationStatus !== 'AUTHORIZED' || a.entitlementAvailability !== 'AVAILABLE') {
      return result(id, title, 'fail', `no model access: ${state}${note}`, { ...where, fix: `${fix} ${modelId}` });
    }
    if (a.agreementAvailability?.status === 'PENDING') {
      return result(id, title, 'warn', `access granted but the model agreement is PENDING: ${state}${note}`, { ...where, fix: `wait for the agreement, or check it on ${modelAccessPage(ctx.region)}` });
    }
    if (a.agreementAvailability?.status === 'ERROR') {
      return result(id, title, 'fail', `the model agreement failed: ${a.agreementAvailability.errorMessage ?? state}${note}`, { ...where, fix: `${fix} ${modelId} again` });
    }
    return result(id, title, 'pass', `usable: ${state}${note}`, where);
  }));
}
