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

/** One secret to describe: a provider's (`gateway.providers.<provider>`) or a deployment's (`gateway.models[].deployments[]`). */
export interface SecretTarget {
  /** The line's id: `provider-secret:<provider>`, or `provider-secret:<secret name>` for a deployment's secret. */
  readonly id: string;
  /** The provider whose API key the secret holds (`openai`, `huggingface`, `openai-compatible`): the fix's placeholder. */
  readonly provider: string;
  /** The Secrets Manager secret name (under `tessera/providers/`). */
  readonly secretId: string;
  /** Who names the secret, in the line's title: `openai`, or `deployment "east" of openai/gpt-4o` (the first deployment naming it, and how many more). */
  readonly owner: string;
}

/**
 * The secrets doctor describes: every `gateway.providers.*.apiKeySecretId` (id `provider-secret:<provider>`), then
 * one per distinct `gateway.models[].deployments[].apiKeySecretId` that no provider names (id
 * `provider-secret:<secret name>`; a provider name has no `/` and a secret name is under `tessera/providers/`, so
 * the two never collide), in config order. A deployment without `apiKeySecretId` uses its provider's, already listed.
 */
export function secretTargets(config: DoctorContext['config']): SecretTarget[] {
  const targets: SecretTarget[] = providerSecrets(config).map(({ provider, secretId }) => ({ id: `provider-secret:${provider}`, provider, secretId, owner: provider }));
  const named = new Set(targets.map((t) => t.secretId));
  const deployments = new Map<string, { provider: string; first: string; more: number }>();
  for (const m of config.gateway.models) {
    for (const d of m.deployments ?? []) {
      if (d.apiKeySecretId === undefined || named.has(d.apiKeySecretId)) continue;
      const seen = deployments.get(d.apiKeySecretId);
      if (seen) seen.more += 1;
      else deployments.set(d.apiKeySecretId, { provider: m.id.split('/')[0], first: `deployment "${d.name}" of ${m.id}`, more: 0 });
    }
  }
  for (const [secretId, d] of deployments) {
    targets.push({ id: `provider-secret:${secretId}`, provider: d.provider, secretId, owner: d.more === 0 ? d.first : `${d.first} and ${d.more} more` });
  }
  return targets;
}

/**
 * Check 5: each provider's API-key secret, and each deployment's own (`gateway.models[].deployments[].apiKeySecretId`,
 * one line per distinct secret), exists in the platform account with an AWSCURRENT version: the router reads them
 * there (lambdas/inference), so a missing one fails that provider's or deployment's requests after deploy.
 * Calls (platform account): secretsmanager:DescribeSecret. Never GetSecretValue: doctor reads no secret.
 */
export async function providerSecretChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const account = ctx.config.platformAccountId;
  const where = { account, region: ctx.region };
  const secrets = secretTargets(ctx.config);
  if (secrets.length === 0) return [result('provider-secrets', 'Provider secrets', 'pass', 'no gateway.providers.*.apiKeySecretId or gateway.models[].deployments[].apiKeySecretId in the config', where)];
  const access = await ctx.clientsIn(account);
  return Promise.all(secrets.map(async ({ id, provider, secretId, owner }) => {
    const title = `Secret ${secretId} (${owner})`;
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
