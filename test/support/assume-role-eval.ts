import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';

/**
 * Whether `principalArn`, with `identityPolicies`, may call `action` (sts:AssumeRole, sts:TagSession…)
 * on `roleArn` in an account of organization `resourceOrgId`, evaluated with the IAM simulator the
 * deploy preflight uses (lib/preflight/iam-eval.ts). The role's trust policy is taken to trust the
 * caller's account (as tenant and provisioning roles trust the platform or management account), so
 * the answer is the identity policies' alone.
 */
export async function mayAssume(principalArn: string, identityPolicies: Array<{ name: string; policy: PolicyJson }>, roleArn: string, resourceOrgId: string, action = 'sts:AssumeRole'): Promise<boolean> {
  const callerAccount = principalArn.split(':')[4];
  const r = await evaluate({
    principalArn, action, resource: roleArn, resourceAccount: roleArn.split(':')[4],
    context: { 'aws:PrincipalArn': principalArn, 'aws:PrincipalAccount': callerAccount, 'aws:ResourceOrgID': resourceOrgId, 'aws:ResourceAccount': roleArn.split(':')[4] },
    identityPolicies, scps: [],
    resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${callerAccount}:root` }, Action: action, Resource: roleArn }] } as PolicyJson,
  });
  return r.allowed;
}
