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
 *   then is an organization trail unless `audit.organizationTrail` is false (lib/config/organization-trail.ts), TesseraPlatform reads the quarantine SCP's ARN from the SSM
 *   parameter TesseraOrganization writes there (lib/tessera-app.ts), and doctor checks CloudTrail's trusted access for
 *   it (lib/cli/doctor/organization-checks.ts). The platform runs no tenant workload (tenants are fenced by SCPs in their
 *   own or the workload account), so refusing it would break deployments that follow the docs; it is a warning
 *   ({@link managementAccountWarnings}) instead.
 * - `platformAccountId` equal to `workloadAccountId` is allowed too (doctor reads the one account's Regions in one line
 *   each, lib/cli/doctor/region-opt-in-checks.ts), but deploy guide step 6 then puts the platform account under
 *   `tessera-guardrails` (lib/guardrail-policies.ts). That SCP denies every principal but the deployers
 *   (`TesseraProvisioning`, `TesseraBlueprintExecution`) the role changes on `tessera-*`, `tessera/*` and break-glass
 *   roles (`ProtectTesseraRoles`) and denies everyone `cloudtrail:UpdateTrail`/`DeleteTrail` (`DenyCloudTrailTampering`);
 *   the CDK deploy role `cdk deploy TesseraPlatform` acts through is neither, and TesseraPlatform's Lambda roles are
 *   named `tessera-*` (`tessera-lifecycle-*`: LIFECYCLE_ROLE_PREFIX in lib/lifecycle-handlers.ts; `tessera-gateway-*`,
 *   `tessera-admin-api`, …), its service roles sit on `/tessera/service-role/`, its trail is the audit trail. So every upgrade that adds or changes one of them fails and rolls back unless the account is moved out
 *   of its tier OU for the deploy: a warning, with that step in docs/upgrading-and-teardown.md.
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
 * `organization.managementAccountId`, one for `platformAccountId` equal to `workloadAccountId` (see this module's doc
 * for why each is allowed). Printed on stderr by the CDK app (bin/tessera-app.ts) at every synth.
 * @returns one line per warning, `<key> = "<value>": <why and what to consider>`; empty when none applies
 */
export function managementAccountWarnings(c: Accounts): string[] {
  const management = c.organization.managementAccountId;
  const warnings: string[] = [];
  if (c.platformAccountId === management) {
    warnings.push(`platformAccountId = "${management}": is organization.managementAccountId: service control policies do not apply to the management account, so nothing of TesseraOrganization fences the platform's roles there, and AWS advises keeping workloads out of it; supported (the audit trail is then an organization trail unless audit.organizationTrail is false), but consider a member account for the platform`);
  }
  if (c.platformAccountId === c.workloadAccountId) {
    warnings.push(`platformAccountId = "${c.platformAccountId}": is workloadAccountId: deploy guide step 6 puts the workload account under tessera-guardrails, which denies the CDK deploy role the changes to TesseraPlatform's tessera-* and /tessera/ roles (ProtectTesseraRoles) and to its audit trail (DenyCloudTrailTampering), so an upgrade of TesseraPlatform that adds or changes them fails and rolls back; move the account out of its tier OU for each cdk deploy TesseraPlatform and back after it (docs/upgrading-and-teardown.md), or give the platform an account of its own`);
  }
  return warnings;
}
