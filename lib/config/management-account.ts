import type { z } from 'zod';

/**
 * Which of Tessera's accounts may be the organization's management account.
 *
 * Service control policies do not restrict users or roles in the management account ("security features like
 * Organizations service control policies (SCPs) do not restrict users or roles in the management account", AWS
 * Organizations User Guide, *Delegated administrator for AWS Organizations*,
 * https://docs.aws.amazon.com/organizations/latest/userguide/orgs_delegate_policies.html), and AWS advises keeping
 * workloads out of it (*Best practices for the management account*, "Avoid deploying workloads to the organization's
 * management account", https://docs.aws.amazon.com/organizations/latest/userguide/orgs_best-practices_mgmt-acct.html).
 *
 * - `workloadAccountId` holds every VPC-isolated tenant's blueprint stack, its data and its workloads; the guardrail,
 *   region and quarantine SCPs (TesseraOrganization) are what fence them. In the management account none of them
 *   applies, so it is refused at synth ({@link checkWorkloadAccountIsNotManagement}).
 * - `platformAccountId` equal to the management account is a layout Tessera supports and documents: the audit trail
 *   then is an organization trail (lib/platform-stack.ts), TesseraPlatform reads the quarantine SCP's ARN from the SSM
 *   parameter TesseraOrganization writes there (lib/tessera-app.ts), and doctor checks CloudTrail's trusted access for
 *   it (lib/cli/doctor/organization-checks.ts). The platform runs no tenant workload (tenants are fenced by SCPs in their
 *   own or the workload account), so refusing it would break deployments that follow the docs; it is a warning
 *   ({@link managementAccountWarnings}) instead.
 */

interface Accounts {
  readonly organization: { readonly managementAccountId: string };
  readonly platformAccountId: string;
  readonly workloadAccountId: string;
}

/**
 * Refuses `workloadAccountId` equal to `organization.managementAccountId`: one issue at `workloadAccountId`, naming
 * both keys and the id (the line reads `<source>: workloadAccountId = "<id>": is organization.managementAccountId …`).
 */
export function checkWorkloadAccountIsNotManagement(c: Accounts, ctx: z.RefinementCtx): void {
  const management = c.organization.managementAccountId;
  if (c.workloadAccountId !== management) return;
  ctx.addIssue({
    code: 'custom',
    path: ['workloadAccountId'],
    message: `is organization.managementAccountId (${management}): service control policies do not apply to the management account, so VPC-isolated tenants there would have none of Tessera's guardrails (the guardrail, region and quarantine SCPs), and AWS advises keeping workloads out of it; set workloadAccountId to a member account of the organization`,
  });
}

/**
 * Warnings, not errors, about where the config puts Tessera's accounts: one line for `platformAccountId` equal to
 * `organization.managementAccountId` (see this module's doc for why it is allowed). Printed on stderr by the CDK app
 * (bin/tessera-app.ts) at every synth.
 * @returns one line per warning, `<key> = "<value>": <why and what to consider>`; empty when none applies
 */
export function managementAccountWarnings(c: Accounts): string[] {
  const management = c.organization.managementAccountId;
  if (c.platformAccountId !== management) return [];
  return [
    `platformAccountId = "${management}": is organization.managementAccountId: service control policies do not apply to the management account, so nothing of TesseraOrganization fences the platform's roles there, and AWS advises keeping workloads out of it; supported (the audit trail becomes an organization trail), but consider a member account for the platform`,
  ];
}
