import { GetRoleCommand } from '@aws-sdk/client-iam';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { bootstrapFix, CDK_QUALIFIER, deployRoleName } from './account-access.js';
import { describeAwsError, isNotFound } from '../aws-errors.js';
import { callFailed, result } from './results.js';
import { trustedPrincipals, trustsAccount } from './trust-policy.js';
import type { CheckResult, DoctorContext } from './types.js';

/**
 * The bootstrap stack version the app needs. aws-cdk-lib 2.276's DefaultStackSynthesizer writes
 * `requiresBootstrapStackVersion: 6` for deployment (MIN_BOOTSTRAP_STACK_VERSION) and 8 for its
 * lookup role (MIN_LOOKUP_ROLE_BOOTSTRAP_STACK_VERSION), which `cdk diff`/`deploy` and doctor use:
 * see cdk.out/manifest.json (`TesseraPlatform` properties). test/unit/doctor/bootstrap-version.test.ts
 * synthesizes a stack and keeps this number equal to the manifest's.
 */
export const REQUIRED_BOOTSTRAP_VERSION = 8;

/** The SSM parameter that holds the bootstrap stack version. */
export const BOOTSTRAP_VERSION_PARAMETER = `/cdk-bootstrap/${CDK_QUALIFIER}/version`;

/** The accounts `cdk deploy` touches and the stack each one gets. */
export function deployTargets(ctx: DoctorContext): Array<{ role: 'management' | 'platform'; account: string; stacks: string }> {
  const { managementAccountId } = ctx.config.organization;
  if (ctx.config.platformAccountId === managementAccountId) return [{ role: 'management', account: managementAccountId, stacks: 'TesseraOrganization, TesseraPlatform' }];
  return [
    { role: 'management', account: managementAccountId, stacks: 'TesseraOrganization' },
    { role: 'platform', account: ctx.config.platformAccountId, stacks: 'TesseraPlatform' },
  ];
}

/**
 * Check 3: CDK bootstrap in each account `cdk deploy` touches, in the Region: the version parameter
 * is at least REQUIRED_BOOTSTRAP_VERSION and, when the deploying account (the management account)
 * is another account, the deploy role trusts it (`cdk bootstrap --trust`).
 * Calls (in the target account): ssm:GetParameter, iam:GetRole.
 */
export async function bootstrapChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const deployer = ctx.config.organization.managementAccountId;
  const out: CheckResult[] = [];
  for (const target of deployTargets(ctx)) {
    const id = `cdk-bootstrap:${target.role}`;
    const title = `CDK bootstrap ${target.role} (${target.stacks})`;
    const where = { account: target.account, region: ctx.region };
    const fix = bootstrapFix(target.account, ctx.region, deployer);
    const access = await ctx.clientsIn(target.account);
    if (!access.ok) {
      out.push(result(id, title, 'fail', access.detail, { ...where, fix: access.fix }));
      continue;
    }
    let version: number;
    try {
      const p = await access.clients.ssm.send(new GetParameterCommand({ Name: BOOTSTRAP_VERSION_PARAMETER }));
      version = Number(p.Parameter?.Value);
    } catch (e) {
      out.push(isNotFound(e)
        ? result(id, title, 'fail', `not bootstrapped in ${ctx.region}: no SSM parameter ${BOOTSTRAP_VERSION_PARAMETER}`, { ...where, fix })
        : callFailed(id, title, `ssm:GetParameter ${BOOTSTRAP_VERSION_PARAMETER}`, e, fix, where));
      continue;
    }
    if (!(version >= REQUIRED_BOOTSTRAP_VERSION)) {
      out.push(result(id, title, 'fail', `bootstrap version ${Number.isNaN(version) ? 'unreadable' : version}, the app needs at least ${REQUIRED_BOOTSTRAP_VERSION}`, { ...where, fix }));
      continue;
    }
    if (target.account === deployer) {
      out.push(result(id, title, 'pass', `version ${version} (needs ${REQUIRED_BOOTSTRAP_VERSION}+)`, where));
      continue;
    }
    const role = deployRoleName(target.account, ctx.region);
    try {
      const doc = (await access.clients.iam.send(new GetRoleCommand({ RoleName: role }))).Role?.AssumeRolePolicyDocument;
      out.push(trustsAccount(doc, deployer)
        ? result(id, title, 'pass', `version ${version} (needs ${REQUIRED_BOOTSTRAP_VERSION}+), ${role} trusts ${deployer}`, where)
        : result(id, title, 'fail', `version ${version}, but ${role} does not trust the management account ${deployer} (trusts ${trustedPrincipals(doc).join(', ') || 'no AWS principal'})`, { ...where, fix }));
    } catch (e) {
      out.push(isNotFound(e)
        ? result(id, title, 'fail', `version ${version}, but the deploy role ${role} does not exist`, { ...where, fix })
        : result(id, title, 'fail', describeAwsError(`iam:GetRole ${role}`, e), { ...where, fix }));
    }
  }
  return out;
}
