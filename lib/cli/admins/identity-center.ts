import { GetUserIdCommand, paginateListUsers, type IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { paginateListInstances, type SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { distance } from 'fastest-levenshtein';
import { pages } from '../../aws-pages.js';
import { CliError } from '../cli-error.js';
import { clientProfile } from '../aws-errors.js';
import { awsErrorName, call } from './aws-failure.js';

/** An IAM Identity Center instance: its ARN (sso-admin calls) and its identity store (users). */
export interface IdentityCenterInstance {
  readonly instanceArn: string;
  readonly identityStoreId: string;
}

/** `arn:aws:sso:::instance/ssoins-<16 hex>` (IAM Identity Center API reference, InstanceArn pattern). */
const INSTANCE_ARN = /^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;
/** `d-<10 hex>` or a region-scoped `<region>-<uuid>` (Identity Store API reference, IdentityStoreId pattern). */
const IDENTITY_STORE_ID = /^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The Identity Center instance to use: `--instance-arn` and `--identity-store-id` when both are
 * given; otherwise ListInstances in the client's region, completing whichever flag is missing.
 * @throws CliError (2) for a malformed flag; (1) when the region has no instance (how to enable
 *   one), when it has several and no `--instance-arn`, or when `--instance-arn` names none of them.
 */
export async function findInstance(sso: SSOAdminClient, region: string, flags: { instanceArn?: string; identityStoreId?: string }): Promise<IdentityCenterInstance> {
  if (flags.instanceArn && !INSTANCE_ARN.test(flags.instanceArn)) {
    throw new CliError(`--instance-arn ${flags.instanceArn}: not an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-<16 characters>); aws sso-admin list-instances prints yours`);
  }
  if (flags.identityStoreId && !IDENTITY_STORE_ID.test(flags.identityStoreId)) {
    throw new CliError(`--identity-store-id ${flags.identityStoreId}: not an identity store id (d-<10 hex digits>); aws sso-admin list-instances prints yours`);
  }
  if (flags.instanceArn && flags.identityStoreId) return { instanceArn: flags.instanceArn, identityStoreId: flags.identityStoreId };
  const instances: IdentityCenterInstance[] = await call('sso:ListInstances', 'sso:ListInstances', async () => {
    const out: IdentityCenterInstance[] = [];
    for await (const page of paginateListInstances(pages(sso), {})) {
      for (const i of page.Instances ?? []) if (i.InstanceArn && i.IdentityStoreId) out.push({ instanceArn: i.InstanceArn, identityStoreId: i.IdentityStoreId });
    }
    return out;
  }, clientProfile(sso));
  if (instances.length === 0) {
    throw new CliError(`IAM Identity Center has no instance in ${region}: enable it in the management account (console: IAM Identity Center → Enable, an organization instance), or pass --region with the region it runs in`, 1);
  }
  const chosen = flags.instanceArn ? instances.find((i) => i.instanceArn === flags.instanceArn) : instances.length === 1 ? instances[0] : undefined;
  if (!chosen) {
    const list = instances.map((i) => `${i.instanceArn} (${i.identityStoreId})`).join(', ');
    throw new CliError(flags.instanceArn
      ? `--instance-arn ${flags.instanceArn}: no such instance in ${region}; the region has ${list}`
      : `${region} has ${instances.length} Identity Center instances (${list}): pass --instance-arn with the organization instance`, flags.instanceArn ? 1 : 2);
  }
  return { instanceArn: chosen.instanceArn, identityStoreId: flags.identityStoreId ?? chosen.identityStoreId };
}

/** How many user names a not-found error suggests. */
const SUGGESTIONS = 3;

/**
 * The identity-store user id of `userName` (GetUserId by the unique attribute `userName`).
 * @throws CliError (1) when no user has that name, naming the nearest user names of the store
 *   (ListUsers, compared case-insensitively by edit distance); AWS errors translated.
 */
export async function findUserId(store: IdentitystoreClient, identityStoreId: string, userName: string): Promise<string> {
  try {
    const out = await store.send(new GetUserIdCommand({
      IdentityStoreId: identityStoreId,
      AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: userName } },
    }));
    if (out.UserId) return out.UserId;
  } catch (e) {
    if (awsErrorName(e) !== 'ResourceNotFoundException') {
      return call('identitystore:GetUserId', 'identitystore:GetUserId', () => Promise.reject(e), clientProfile(store));
    }
  }
  const names = await call('identitystore:ListUsers', 'identitystore:ListUsers', async () => {
    const out: string[] = [];
    for await (const page of paginateListUsers(pages(store), { IdentityStoreId: identityStoreId })) {
      for (const u of page.Users ?? []) if (u.UserName) out.push(u.UserName);
    }
    return out;
  }, clientProfile(store));
  const nearest = names
    .map((n) => ({ n, d: distance(n.toLowerCase(), userName.toLowerCase()) }))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, SUGGESTIONS)
    .map((x) => x.n);
  throw new CliError(`--user ${userName}: no such user in identity store ${identityStoreId}${nearest.length ? `; nearest user names: ${nearest.join(', ')}` : ' (it has no users: create one in IAM Identity Center first)'}`, 1);
}
