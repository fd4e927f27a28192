import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribePolicyCommand, paginateListPolicies, type PolicySummary } from '@aws-sdk/client-organizations';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { pages } from '../../aws-pages.js';
import { parseScpArn, QUARANTINE_SCP_ARN_PARAMETER } from '../../quarantine-scp-parameter.js';
import { errorName } from '../aws-errors.js';
import { ORGANIZATION_STACK } from './control-tower-checks.js';
import { PLATFORM_STACK } from './identity-checks.js';
import { callFailed, grantOrRerun, result } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

const ID = 'quarantine-scp-arn';
const TITLE = 'tessera-quarantine ARN';
/** The name TesseraOrganization gives its quarantine SCP (constructs/organization-guardrails.ts), by which the lifecycle finds it (lambdas/lifecycle/organization-lookup.ts QUARANTINE_SCP). */
const QUARANTINE_SCP = 'tessera-quarantine';

/**
 * When the platform account is the management account, TesseraPlatform's lifecycle functions hold organizations:AttachPolicy
 * and DetachPolicy of tessera-quarantine themselves, by the ARN TesseraOrganization writes to QUARANTINE_SCP_ARN_PARAMETER
 * (an SSM-typed template parameter of TesseraPlatform, resolved at each deploy), while the functions find the SCP by its
 * name (ListPolicies). So one line, `quarantine-scp-arn`, in the management account and home Region:
 * - the parameter is missing: fail (CloudFormation refuses TesseraPlatform for it), fix `cdk deploy TesseraOrganization`;
 * - its value is not an SCP ARN of the config's organization, names an SCP that does not exist (PolicyNotFoundException)
 *   or one not named tessera-quarantine (DescribePolicy): fail naming the parameter's SCP and tessera-quarantine's
 *   (ListPolicies), whose ARN the fix writes to the parameter before TesseraPlatform is deployed again;
 * - TesseraPlatform was deployed with another value (its stack parameter's `ResolvedValue`, DescribeStacks): the SCP was
 *   replaced since, and the lifecycle is refused AttachPolicy/DetachPolicy of the new one: fail naming both, fix
 *   `cdk deploy TesseraPlatform` (cdk never skips a stack with SSM parameters, and CloudFormation resolves them anew);
 * - otherwise a pass (TesseraPlatform not deployed yet, or deployed with the same ARN, or by a version that did not read it).
 * When the platform account is another account, no line: the lifecycle reaches Organizations through
 * TesseraOrganizationAccess, whose policy names the SCP's `Arn` in the same stack.
 * Calls (management account, homeRegion): ssm:GetParameter, organizations:DescribePolicy, organizations:ListPolicies (only
 * when the parameter's SCP is not tessera-quarantine), cloudformation:DescribeStacks (TesseraPlatform).
 * Never throws for an AWS error: a failed read is its own `fail` line naming the call.
 */
export async function quarantineScpChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const { config } = ctx;
  const management = config.organization.managementAccountId;
  if (config.platformAccountId !== management) return [];
  const region = config.homeRegion;
  const where = { account: ctx.callerAccount, region };
  const home = ctx.callerIn(region);
  const orgs = ctx.caller.organizations;
  const P = QUARANTINE_SCP_ARN_PARAMETER;
  const deploy = (stack: string) => `npx cdk deploy ${stack} -c tessera:configFile=<your config file>`;
  const fail = (detail: string, fix: string) => [result(ID, TITLE, 'fail', detail, { ...where, fix })];
  const failedCall = (call: string, e: unknown, lookYourself: string) => [callFailed(ID, TITLE, call, e,
    grantOrRerun(e, `grant ${call.split(' ')[0]} to your credentials in the management account ${management} (or use ReadOnlyAccess)`, lookYourself), where)];

  let value: string | undefined;
  try {
    value = (await home.ssm.send(new GetParameterCommand({ Name: P }))).Parameter?.Value;
  } catch (e) {
    if (errorName(e) !== 'ParameterNotFound') return failedCall(`ssm:GetParameter ${P}`, e, `aws ssm get-parameter --name ${P} --region ${region}`);
  }
  if (!value) {
    return fail(`no SSM parameter ${P} in the management account ${management} (${region}): TesseraPlatform's lifecycle functions are granted tessera-quarantine by the ARN it holds, and CloudFormation refuses TesseraPlatform while it is missing; ${ORGANIZATION_STACK} writes it`,
      `${deploy(ORGANIZATION_STACK)}, then TesseraPlatform`);
  }

  // Which SCP is tessera-quarantine now (for a fix with its ARN), read only when the parameter does not name it.
  const named = async (): Promise<{ found?: PolicySummary; error?: unknown }> => {
    try {
      for await (const page of paginateListPolicies(pages(orgs), { Filter: 'SERVICE_CONTROL_POLICY' })) {
        const found = page.Policies?.find((p) => p.Name === QUARANTINE_SCP);
        if (found) return { found };
      }
      return {};
    } catch (error) {
      return { error };
    }
  };
  const stale = async (what: string): Promise<CheckResult[]> => {
    const { found, error } = await named();
    if (found) {
      const foundArn = found.Arn ?? `arn:aws:organizations::${management}:policy/${config.organization.organizationId}/service_control_policy/${found.Id}`;
      return fail(`${P} names ${what}; ${QUARANTINE_SCP} is ${found.Id} (${foundArn}): Quarantine account and Activate tenant find it by name and are refused AttachPolicy/DetachPolicy of it`,
        `aws ssm put-parameter --name ${P} --type String --overwrite --value ${foundArn} --region ${region}, then ${deploy(PLATFORM_STACK)}; the parameter is ${ORGANIZATION_STACK}'s, so see what changed outside CloudFormation: aws cloudformation detect-stack-drift --stack-name ${ORGANIZATION_STACK} --region ${region}`);
    }
    return fail(`${P} names ${what}; ${error ? `tessera-quarantine could not be looked up (${errorName(error)})` : `no SCP is named ${QUARANTINE_SCP}`}: Quarantine account and Activate tenant fail`,
      `${deploy(ORGANIZATION_STACK)} (it creates ${QUARANTINE_SCP} and writes its ARN); if it reports no changes, ${QUARANTINE_SCP} was deleted outside CloudFormation: aws cloudformation detect-stack-drift --stack-name ${ORGANIZATION_STACK} --region ${region}`);
  };

  const arn = parseScpArn(value);
  if (!arn) return stale(`${value}, which is not the ARN of a customer SCP (arn:aws:organizations::<management account>:policy/<organization id>/service_control_policy/p-…)`);
  if (arn.managementAccountId !== management || arn.organizationId !== config.organization.organizationId) {
    return stale(`${value}, an SCP of organization ${arn.organizationId} (management account ${arn.managementAccountId}), not of the config's ${config.organization.organizationId} (${management})`);
  }
  let name: string | undefined;
  try {
    name = (await orgs.send(new DescribePolicyCommand({ PolicyId: arn.policyId }))).Policy?.PolicySummary?.Name;
  } catch (e) {
    if (errorName(e) === 'PolicyNotFoundException') return stale(`${arn.policyId}, which does not exist`);
    return failedCall(`organizations:DescribePolicy ${arn.policyId}`, e, `aws organizations describe-policy --policy-id ${arn.policyId}`);
  }
  if (name !== QUARANTINE_SCP) return stale(`${arn.policyId}, which is ${name ?? 'an SCP without a name'}, not ${QUARANTINE_SCP}`);

  // The value TesseraPlatform's lifecycle policies were deployed with: its SSM-typed parameter's ResolvedValue.
  let deployed: { key?: string; value?: string } | undefined;
  try {
    const stack = (await home.cloudFormation.send(new DescribeStacksCommand({ StackName: PLATFORM_STACK }))).Stacks?.[0];
    const p = stack?.Parameters?.find((x) => x.ParameterValue === P);
    deployed = p ? { key: p.ParameterKey, value: p.ResolvedValue } : {};
  } catch (e) {
    if (!(errorName(e) === 'ValidationError' && /does not exist/.test((e as Error).message))) {
      return failedCall(`cloudformation:DescribeStacks ${PLATFORM_STACK}`, e, `aws cloudformation describe-stacks --stack-name ${PLATFORM_STACK} --region ${region}`);
    }
  }
  const ok = `${P} names ${arn.policyId}, ${QUARANTINE_SCP}`;
  if (!deployed) return [result(ID, TITLE, 'pass', `${ok}; ${PLATFORM_STACK} is not deployed yet (it reads the parameter when it is)`, where)];
  if (!deployed.key) return [result(ID, TITLE, 'pass', `${ok}; the deployed ${PLATFORM_STACK} does not read it yet (an earlier version: its next deploy names ${QUARANTINE_SCP} by this ARN)`, where)];
  if (deployed.value !== value) {
    return fail(`${PLATFORM_STACK} was deployed with ${deployed.value ?? 'no resolved value'} (its parameter ${deployed.key}), and ${ok} (${value}): ${QUARANTINE_SCP} was replaced since, and the lifecycle functions are refused AttachPolicy/DetachPolicy of it`,
      `${deploy(PLATFORM_STACK)} (CloudFormation reads the parameter again on each deploy)`);
  }
  return [result(ID, TITLE, 'pass', `${ok}, the ARN ${PLATFORM_STACK} was deployed with`, where)];
}
