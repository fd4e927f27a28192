import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describeAwsError, isNotFound } from '../aws-errors.js';
import { grantOrRerun, result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

/** Provider name → secret id, for every `gateway.providers.*.apiKeySecretId` of the config. */
export function providerSecrets(config: DoctorContext['config']): Array<{ provider: string; secretId: string }> {
  return Object.entries(config.gateway.providers)
    .filter((e): e is [string, { baseUrl: string; apiKeySecretId: string }] => Boolean(e[1]?.apiKeySecretId))
    .map(([provider, p]) => ({ provider, secretId: p.apiKeySecretId }));
}

/**
 * Check 5: each provider's API-key secret exists in the platform account with an AWSCURRENT version.
 * Calls (platform account): secretsmanager:DescribeSecret. Never GetSecretValue: doctor reads no secret.
 */
export async function providerSecretChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const account = ctx.config.platformAccountId;
  const where = { account, region: ctx.region };
  const secrets = providerSecrets(ctx.config);
  if (secrets.length === 0) return [result('provider-secrets', 'Provider secrets', 'pass', 'no gateway.providers.*.apiKeySecretId in the config', where)];
  const access = await ctx.clientsIn(account);
  return Promise.all(secrets.map(async ({ provider, secretId }) => {
    const id = `provider-secret:${provider}`;
    const title = `Secret ${secretId} (${provider})`;
    if (!access.ok) return unreadable(id, title, access, account, ctx.region);
    const create = `in account ${account}: aws secretsmanager create-secret --region ${ctx.region} --name ${secretId} --secret-string '<${provider} API key>'`;
    try {
      const s = await access.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
      if (s.DeletedDate) {
        return result(id, title, 'fail', `scheduled for deletion on ${s.DeletedDate.toISOString()}`, { ...where, fix: `aws secretsmanager restore-secret --region ${ctx.region} --secret-id ${secretId}` });
      }
      const current = Object.entries(s.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'));
      return current
        ? result(id, title, 'pass', `exists with an AWSCURRENT version${s.KmsKeyId ? ` (key ${s.KmsKeyId})` : ''}`, where)
        : result(id, title, 'fail', 'exists but has no AWSCURRENT version (no value was ever put)', { ...where, fix: `aws secretsmanager put-secret-value --region ${ctx.region} --secret-id ${secretId} --secret-string '<${provider} API key>'` });
    } catch (e) {
      if (isNotFound(e)) return result(id, title, 'fail', `no secret ${secretId} in account ${account} (${ctx.region})`, { ...where, fix: create });
      return result(id, title, 'fail', describeAwsError(`secretsmanager:DescribeSecret ${secretId}`, e), {
        ...where, fix: grantOrRerun(e, `grant secretsmanager:DescribeSecret to ${access.via}`, `in account ${account}: aws secretsmanager describe-secret --secret-id ${secretId} --region ${ctx.region}`),
      });
    }
  }));
}
