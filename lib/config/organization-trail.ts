import type { PlatformConfig } from './schema.js';

/**
 * Name of Tessera's audit trail when it is an organization trail (`audit.organizationTrail`). Fixed because the audit
 * bucket's policy and the platform key's policy name the trail's ARN (`aws:SourceArn`,
 * `kms:EncryptionContext:aws:cloudtrail:arn`), and the trail cannot be referenced there by an attribute (the trail
 * depends on the bucket policy: CloudTrail checks it at CreateTrail).
 */
export const ORGANIZATION_TRAIL_NAME = 'tessera-organization-audit';

/** The parts of the config {@link organizationTrailOf} reads. */
type TrailConfig = Pick<PlatformConfig, 'platformAccountId' | 'organization'> & { readonly audit: Pick<PlatformConfig['audit'], 'organizationTrail'> };

/**
 * Whether Tessera's audit trail (constructs/audit-trail.ts) is an organization trail, and how it is made one.
 * - `organizationTrail`: `audit.organizationTrail`, or, absent, whether `platformAccountId` is the management account
 *   (the behaviour before the key existed, so an upgrade changes nothing by itself).
 * - `delegatedAdministrator`: the platform account is a member account, so it creates and manages the organization trail
 *   as CloudTrail's delegated administrator: registered from the management account with
 *   `aws cloudtrail register-organization-delegated-admin --member-account-id <platformAccountId>` (CloudTrail's API, which
 *   also creates CloudTrail's service-linked role in the management account; Organizations' RegisterDelegatedAdministrator
 *   does not), with trusted access for cloudtrail.amazonaws.com. A delegated administrator "can perform the same
 *   administrative tasks ... as the management account", and "the management account remains the owner of any CloudTrail
 *   organization resources the delegated administrator creates": the trail's ARN carries the management account's id.
 *   Source: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-delegated-administrator.html
 * - `ownerAccountId`: the account in the trail's ARN: the management account for an organization trail, else the platform
 *   account.
 */
export function organizationTrailOf(config: TrailConfig): { organizationTrail: boolean; delegatedAdministrator: boolean; ownerAccountId: string } {
  const management = config.organization.managementAccountId;
  const organizationTrail = config.audit.organizationTrail ?? config.platformAccountId === management;
  return {
    organizationTrail,
    delegatedAdministrator: organizationTrail && config.platformAccountId !== management,
    ownerAccountId: organizationTrail ? management : config.platformAccountId,
  };
}
