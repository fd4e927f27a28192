import { DescribePermissionSetCommand, ListAccountAssignmentsCommand, ListInstancesCommand, paginateListPermissionSets } from '@aws-sdk/client-sso-admin';
import { pages } from '../../aws-pages.js';
import { describeAwsError, errorName, isNotFound } from '../aws-errors.js';
import { deployedUserPool, PLATFORM_STACK, USER_POOL_OUTPUT } from './deployed-user-pool.js';
import { grantOrRerun, result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

export { PLATFORM_STACK, USER_POOL_OUTPUT };
/** The attribute that carries a tenant user's tenant id into the JWT. */
export const TENANT_ID_ATTRIBUTE = 'custom:tenant_id';
/** The IAM Identity Center permission set of platform admins (`tessera admins create` makes it). */
export const PLATFORM_ADMIN_PERMISSION_SET = 'TesseraPlatformAdmin';

/**
 * Check 9a: when `gateway.jwt` is unset, the platform's Cognito user pool (TesseraPlatform output
 * TenantUserPoolId) exists with the `custom:tenant_id` attribute.
 * Calls (platform account): cloudformation:DescribeStacks, cognito-idp:DescribeUserPool.
 */
export async function userPoolChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const account = ctx.config.platformAccountId;
  const where = { account, region: ctx.region };
  const id = 'cognito-user-pool';
  const title = 'Cognito tenant user pool';
  if (ctx.config.gateway.jwt) return [result(id, title, 'pass', `not used: gateway.jwt names the issuer ${ctx.config.gateway.jwt.issuer}`, where)];
  const access = await ctx.clientsIn(account);
  if (!access.ok) return [unreadable(id, title, access, account, ctx.region)];
  const deploy = 'deploy TesseraPlatform first: npx cdk deploy TesseraPlatform -c tessera:configFile=<your config file>';
  const found = await deployedUserPool(ctx, access.clients);
  if (found.step === 'output') return [result(id, title, 'fail', `stack ${PLATFORM_STACK} (${found.stackStatus}) has no output ${USER_POOL_OUTPUT}`, { ...where, fix: deploy })];
  if (found.step === 'stack') {
    const e = found.error;
    if (errorName(e) === 'ValidationError' && /does not exist/.test((e as Error).message)) {
      return [result(id, title, 'fail', `stack ${PLATFORM_STACK} is not deployed in account ${account} (${ctx.region})`, { ...where, fix: deploy })];
    }
    return [result(id, title, 'fail', describeAwsError(`cloudformation:DescribeStacks ${PLATFORM_STACK}`, e), {
      ...where, fix: grantOrRerun(e, `grant cloudformation:DescribeStacks to ${access.via}`, `in account ${account}: aws cloudformation describe-stacks --stack-name ${PLATFORM_STACK} --region ${ctx.region}`),
    })];
  }
  const { poolId } = found;
  if (found.step === 'pool') {
    const e = found.error;
    if (isNotFound(e)) return [result(id, title, 'fail', `user pool ${poolId} (output ${USER_POOL_OUTPUT}) does not exist`, { ...where, fix: `redeploy TesseraPlatform: npx cdk deploy TesseraPlatform` })];
    return [result(id, title, 'fail', describeAwsError(`cognito-idp:DescribeUserPool ${poolId}`, e), {
      ...where, fix: grantOrRerun(e, `grant cognito-idp:DescribeUserPool to ${access.via}`, `in account ${account}: aws cognito-idp describe-user-pool --user-pool-id ${poolId} --region ${ctx.region}`),
    })];
  }
  const { pool } = found;
  const has = (pool?.SchemaAttributes ?? []).some((a) => a.Name === TENANT_ID_ATTRIBUTE);
  return [has
    ? result(id, title, 'pass', `${poolId} (${pool?.Name}) has ${TENANT_ID_ATTRIBUTE}`, where)
    : result(id, title, 'fail', `${poolId} has no ${TENANT_ID_ATTRIBUTE} attribute (tenant tokens would carry no tenant)`, { ...where, fix: `redeploy TesseraPlatform (npx cdk deploy TesseraPlatform), which defines the attribute; a pool changed by hand must be replaced` })];
}

/**
 * Check 9b: the IAM Identity Center permission set TesseraPlatformAdmin exists and is assigned to
 * at least one user or group on the platform account.
 * Calls (caller's account, Identity Center Region): sso:ListInstances, sso:ListPermissionSets,
 * sso:DescribePermissionSet, sso:ListAccountAssignments.
 */
export async function platformAdminChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const region = ctx.identityCenterRegion ?? ctx.region;
  const where = { account: ctx.callerAccount, region };
  const id = 'platform-admins';
  const title = `Platform admins (${PLATFORM_ADMIN_PERMISSION_SET})`;
  const platform = ctx.config.platformAccountId;
  const create = 'npx tessera admins create --user <user name>';
  const sso = ctx.callerIn(region).ssoAdmin;
  let call = 'sso:ListInstances';
  try {
    const instance = (await sso.send(new ListInstancesCommand({}))).Instances?.[0];
    if (!instance?.InstanceArn) {
      return [result(id, title, 'fail', `no IAM Identity Center instance in ${region} for account ${ctx.callerAccount}`, { ...where, fix: `enable IAM Identity Center in the management account (console: IAM Identity Center > Enable), or pass --identity-center-region <its Region>; then ${create}` })];
    }
    call = 'sso:ListPermissionSets';
    let arn: string | undefined;
    for await (const page of paginateListPermissionSets(pages(sso), { InstanceArn: instance.InstanceArn })) {
      for (const ps of page.PermissionSets ?? []) {
        call = 'sso:DescribePermissionSet';
        const d = await sso.send(new DescribePermissionSetCommand({ InstanceArn: instance.InstanceArn, PermissionSetArn: ps }));
        if (d.PermissionSet?.Name === PLATFORM_ADMIN_PERMISSION_SET) arn = ps;
      }
      if (arn) break;
    }
    if (!arn) return [result(id, title, 'fail', `no permission set ${PLATFORM_ADMIN_PERMISSION_SET} in ${instance.InstanceArn}`, { ...where, fix: create })];
    call = 'sso:ListAccountAssignments';
    const assignments = (await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: instance.InstanceArn, AccountId: platform, PermissionSetArn: arn }))).AccountAssignments ?? [];
    return [assignments.length > 0
      ? result(id, title, 'pass', `${assignments.length} assignment(s) on the platform account ${platform} (${assignments.map((a) => `${a.PrincipalType} ${a.PrincipalId}`).join(', ')})`, where)
      : result(id, title, 'fail', `${PLATFORM_ADMIN_PERMISSION_SET} exists but is assigned to nobody on the platform account ${platform}`, { ...where, fix: create })];
  } catch (e) {
    return [result(id, title, 'fail', describeAwsError(call, e), { ...where, fix: `run doctor with credentials of the management account (Identity Center's), or pass --identity-center-region; ${call} needs sso:* read access` })];
  }
}
