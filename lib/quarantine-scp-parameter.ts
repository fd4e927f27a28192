/**
 * The SSM parameter (String, management account, home Region) through which `TesseraOrganization` hands the ARN of
 * `tessera-quarantine` to `TesseraPlatform`, whose lifecycle functions call Organizations themselves when the platform
 * account is the management account. An SCP's id is random (`p-` and 8-128 characters, given by CreatePolicy), so its
 * ARN cannot be derived from its name; the platform stack reads it at deploy (an SSM-typed template parameter), as the
 * namespace blueprints read SHARED_CLUSTER_PARAMETERS. Here, without aws-cdk-lib, so `tessera doctor` can read it too
 * (lib/cli/doctor/quarantine-scp-checks.ts); constructs/organization-access-role.ts re-exports it.
 */
export const QUARANTINE_SCP_ARN_PARAMETER = '/tessera/organization/quarantine-scp-arn';

/** An SCP's ARN, as Organizations gives it: `arn:<partition>:organizations::<management account>:policy/<organization id>/service_control_policy/<policy id>`. */
export interface ScpArnParts {
  readonly partition: string;
  /** The management account's id (12 digits). */
  readonly managementAccountId: string;
  /** `o-` and 10-32 lowercase letters or digits. */
  readonly organizationId: string;
  /** `p-` and 8-128 letters, digits or underscores. */
  readonly policyId: string;
}

/**
 * The parts of a customer SCP's ARN, or undefined when `arn` is not one (an AWS managed SCP's ARN names the account
 * `aws` and no organization; another policy type names another `<type>` segment).
 * Source: the id patterns of Organizations' API reference (Organization.Id `^o-[a-z0-9]{10,32}$`, PolicySummary.Id
 * `^p-[0-9a-zA-Z_]{8,128}$`) and the `policy` resource type of the Service Authorization Reference, AWS Organizations
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html).
 */
export function parseScpArn(arn: string): ScpArnParts | undefined {
  const m = /^arn:(aws|aws-cn|aws-us-gov):organizations::(\d{12}):policy\/(o-[a-z0-9]{10,32})\/service_control_policy\/(p-[0-9a-zA-Z_]{8,128})$/.exec(arn);
  return m ? { partition: m[1], managementAccountId: m[2], organizationId: m[3], policyId: m[4] } : undefined;
}
