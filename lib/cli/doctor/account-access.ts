import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-providers';
import type { AwsClients, ClientFactory } from './clients.js';
import { describeAwsError } from '../aws-errors.js';
import type { AccountClients } from './types.js';

/** CDK's default bootstrap qualifier (aws-cdk-lib DefaultStackSynthesizer.DEFAULT_QUALIFIER). */
export const CDK_QUALIFIER = 'hnb659fds';

/** The bootstrap's lookup role: ReadOnlyAccess, trusted by the accounts given to `cdk bootstrap --trust`. */
export const lookupRoleName = (account: string, region: string) => `cdk-${CDK_QUALIFIER}-lookup-role-${account}-${region}`;
/** The bootstrap's deploy role, which `cdk deploy` assumes from the deploying account. */
export const deployRoleName = (account: string, region: string) => `cdk-${CDK_QUALIFIER}-deploy-role-${account}-${region}`;

/** The `cdk bootstrap` command that creates the roles and trusts the management account. */
export function bootstrapFix(account: string, region: string, management: string): string {
  const trust = account === management ? '' : ` --trust ${management}`;
  return `npx cdk bootstrap aws://${account}/${region}${trust} --cloudformation-execution-policies arn:aws:iam::aws:policy/AdministratorAccess`;
}

export interface AccountAccessOptions {
  readonly factory: ClientFactory;
  readonly region: string;
  /** Account of the caller's credentials. */
  readonly callerAccount: string;
  readonly caller: AwsClients;
  /** Management account (the `--trust` of the bootstrap fix). */
  readonly managementAccount: string;
  /** `--account-profile`: account id → named profile. @default - none */
  readonly accountProfiles?: Readonly<Record<string, string>>;
  /** AWS partition of role ARNs. @default 'aws' */
  readonly partition?: string;
  /**
   * Roles to try after the lookup role, per account (e.g. the workload account's provisioning role,
   * which trusts the management account). @default - none
   */
  readonly fallbackRoles?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Resolves clients in each account, once per account: the caller's own account uses the caller's
 * credentials; an account with a `--account-profile` uses that profile; any other account is read
 * through the CDK lookup role (sts:AssumeRole from the caller), then the fallback roles. When no
 * role can be assumed, the answer is the bootstrap/trust failure with its `cdk bootstrap` fix.
 */
export function accountAccess(options: AccountAccessOptions): (accountId: string) => Promise<AccountClients> {
  const cache = new Map<string, Promise<AccountClients>>();
  const partition = options.partition ?? 'aws';
  const resolve = async (accountId: string): Promise<AccountClients> => {
    if (accountId === options.callerAccount) return { ok: true, clients: options.caller, via: 'your credentials' };
    const profile = options.accountProfiles?.[accountId];
    if (profile) return { ok: true, clients: options.factory(fromIni({ profile }), options.region), via: `profile ${profile}` };
    const roles = [lookupRoleName(accountId, options.region), ...(options.fallbackRoles?.[accountId] ?? [])];
    const failures: string[] = [];
    for (const role of roles) {
      const arn = `arn:${partition}:iam::${accountId}:role/${role}`;
      try {
        const out = await options.caller.sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'tessera-doctor', DurationSeconds: 900 }));
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw Object.assign(new Error('AssumeRole returned no credentials'), { name: 'InvalidResponse' });
        const credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
        return { ok: true, clients: options.factory(credentials, options.region), via: `role ${role}` };
      } catch (e) {
        failures.push(describeAwsError(`sts:AssumeRole ${arn}`, e));
      }
    }
    return {
      ok: false,
      detail: `cannot read account ${accountId}: ${failures[0]} (the CDK bootstrap is missing or does not trust ${options.callerAccount})${failures.length > 1 ? `; also ${failures.slice(1).join('; ')}` : ''}`,
      fix: `${bootstrapFix(accountId, options.region, options.managementAccount)}, or pass --account-profile ${accountId}=<profile>`,
    };
  };
  return (accountId) => {
    if (!cache.has(accountId)) cache.set(accountId, resolve(accountId));
    return cache.get(accountId)!;
  };
}
