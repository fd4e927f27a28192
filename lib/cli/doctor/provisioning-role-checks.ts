import { GetRoleCommand } from '@aws-sdk/client-iam';
import { describeAwsError, isNotFound } from '../aws-errors.js';
import { result } from './results.js';
import { trustedPrincipals, trustsAccount } from './trust-policy.js';
import type { CheckResult, DoctorContext } from './types.js';

/** The trust policy `TesseraProvisioning` needs: sts:AssumeRole from the management account, no session tags. */
export function provisioningTrustPolicy(managementAccount: string): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${managementAccount}:root` }, Action: 'sts:AssumeRole' }] });
}

/**
 * Check 4: the provisioning role (`roles.provisioningRoleName`) exists in the workload account and
 * trusts the management account for sts:AssumeRole. The account is read through the CDK lookup
 * role or, failing that, by assuming the provisioning role itself (runner: `fallbackRoles`).
 * Calls (workload account): iam:GetRole.
 */
export async function provisioningRoleChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const { workloadAccountId: account, roles, organization } = ctx.config;
  const name = roles.provisioningRoleName;
  const id = 'provisioning-role';
  const title = `${name} in workload account`;
  const where = { account, region: ctx.region };
  const trust = provisioningTrustPolicy(organization.managementAccountId);
  // The role comes from the template the platform publishes (docs/deploying.md, step 5),
  // never a hand-made role: that one would have to be broad, and the stack's create would then fail on the name.
  const template = `in account ${account} (home region ${ctx.config.homeRegion}): aws cloudformation create-stack --stack-name TesseraWorkloadProvisioning --template-url <TesseraPlatform output WorkloadProvisioningRoleTemplateUrl> --parameters ParameterKey=BlueprintBucketName,ParameterValue=<output BlueprintBucketName> --capabilities CAPABILITY_NAMED_IAM --profile <workload account profile> (after cdk deploy TesseraPlatform)`;
  const create = template;
  const access = await ctx.clientsIn(account);
  if (!access.ok) {
    return [result(id, title, 'fail', `${access.detail}; ${name} could not be assumed either, so it is missing or does not trust ${ctx.callerAccount}`, { ...where, fix: `${create}; if it exists, let doctor read the account: --account-profile ${account}=<profile> (the workload account is not CDK-bootstrapped, so it has no lookup role), or ${access.fix}` })];
  }
  try {
    const doc = (await access.clients.iam.send(new GetRoleCommand({ RoleName: name }))).Role?.AssumeRolePolicyDocument;
    if (trustedPrincipals(doc).includes('*')) {
      return [result(id, title, 'fail', `exists but trusts every AWS principal ("*"): anyone could provision in the workload account`, {
        ...where, fix: `delete the hand-made role and deploy the published template instead: ${template}`,
      })];
    }
    if (trustsAccount(doc, organization.managementAccountId)) {
      return [result(id, title, 'pass', `exists and trusts the management account ${organization.managementAccountId} (read as ${access.via})`, where)];
    }
    return [result(id, title, 'fail', `exists but does not trust the management account ${organization.managementAccountId} for sts:AssumeRole (trusts ${trustedPrincipals(doc).join(', ') || 'no AWS principal'})`, {
      ...where, fix: `update it from the published template (aws cloudformation update-stack --stack-name TesseraWorkloadProvisioning --template-url <WorkloadProvisioningRoleTemplateUrl> ...), whose trust is ${trust} narrowed to TesseraOrganizationAccess and the lifecycle roles`,
    })];
  } catch (e) {
    if (isNotFound(e)) return [result(id, title, 'fail', `no role ${name} in the workload account ${account}`, { ...where, fix: create })];
    return [result(id, title, 'fail', describeAwsError(`iam:GetRole ${name}`, e), { ...where, fix: `grant iam:GetRole to ${access.via}, or pass --account-profile ${account}=<profile>` })];
  }
}
