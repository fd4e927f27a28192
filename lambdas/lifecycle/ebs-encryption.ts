import { EnableEbsEncryptionByDefaultCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { EbsEncryptionOutcome } from '../../lib/tenant-record.js';

/**
 * EBS encryption by default in a tenant account (LZA's `ebsDefaultVolumeEncryption`, Control Tower's optional control
 * CT.EC2.PV.7 / the Config rule `ec2-ebs-encryption-by-default`), which no CloudFormation resource sets. It is a setting
 * "for your account in the current Region" (EC2 API Reference, EnableEbsEncryptionByDefault): one call per Region.
 * EnableEbsEncryptionByDefault answers `EbsEncryptionByDefault`, "the updated status of encryption by default", and
 * answers `true` again when it is on already: the call is its own check, and safe to repeat.
 *
 * The default KMS key is left as EC2 has it (`alias/aws/ebs`, the account's AWS managed key): no ModifyEbsDefaultKmsKeyId.
 * The tenant key is made by the tenant stack, later in the onboarding than this step; and a customer managed key as the
 * account's default must allow every principal and service that creates a volume (EC2 Auto Scaling's service-linked role
 * for the EKS node groups, AWS Backup restores), or their launches fail with the key's AccessDenied, which no tenant
 * blueprint key policy grants today. The AWS managed key is usable by every principal of the account only through EC2
 * and never by another account, which is the isolation an account tier gives; the tenant's own volumes that must be
 * under the tenant key name it themselves (the blueprint's launch templates and databases).
 */

/** The EC2 actions the step needs, and the only ones its provisioning session may use (its STS session policy). */
export const EBS_ENCRYPTION_ACTIONS = ['ec2:DescribeRegions', 'ec2:EnableEbsEncryptionByDefault'] as const;

/**
 * The session policy of *Enable EBS encryption by default*'s provisioning session (STS AssumeRole `Policy`): the role
 * Organizations creates in a vended account has AdministratorAccess, and a session policy leaves the session only what
 * both allow. The actions have no resource type (Service Authorization Reference, Amazon EC2): `Resource` is `*`.
 */
export const EBS_ENCRYPTION_SESSION_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: [...EBS_ENCRYPTION_ACTIONS], Resource: '*' }],
});

/** EC2 error codes that say the caller may not act in the region (an SCP's region deny, a region not enabled). */
const UNREACHABLE = new Set(['UnauthorizedOperation', 'AccessDenied', 'AccessDeniedException', 'AuthFailure', 'OptInRequired', 'InvalidClientTokenId']);

/**
 * Turns EBS encryption by default on in the region of `ec2` (EnableEbsEncryptionByDefault). Volumes made after it are
 * encrypted; existing ones are not changed ("Enabling encryption by default has no effect on the encryption status of
 * your existing volumes", EC2 API Reference), and a brand-new account has none.
 * @param region the region of `ec2`, recorded in the outcome
 * @returns `ENABLED` (EC2 answered `EbsEncryptionByDefault: true`, whether it was on already or not); `NOT_ENABLED` with a `reason` when
 *   EC2 answered anything else (the API has no such answer documented; recorded, not guessed); `UNREACHABLE` with
 *   EC2's answer when it refuses the caller in the region (a region-deny SCP, another tool's SCP denying the action)
 * @throws any other EC2 error (throttling past the SDK's retries, a server error): the step fails and is run again
 */
export async function enableEbsEncryptionByDefault(ec2: EC2Client, region: string): Promise<EbsEncryptionOutcome> {
  try {
    const out = await ec2.send(new EnableEbsEncryptionByDefaultCommand({}));
    if (out.EbsEncryptionByDefault === true) return { region, state: 'ENABLED' };
    return { region, state: 'NOT_ENABLED', reason: `EnableEbsEncryptionByDefault answered EbsEncryptionByDefault: ${String(out.EbsEncryptionByDefault)}` };
  } catch (e) {
    const err = e as { name?: string; message?: string };
    if (UNREACHABLE.has(err.name ?? '')) return { region, state: 'UNREACHABLE', reason: `EnableEbsEncryptionByDefault: ${err.name}: ${err.message ?? String(e)}` };
    throw e;
  }
}

/**
 * {@link enableEbsEncryptionByDefault} in each of `regions`, at most `concurrency` regions at a time.
 * @param clientFor the EC2 client of a region (the tenant account's session)
 * @param concurrency regions worked on at once @default 4
 * @returns one outcome per region, in the order of `regions`
 * @throws the first error {@link enableEbsEncryptionByDefault} throws (the regions already enabled stay enabled)
 */
export async function enableEbsEncryptionInRegions(clientFor: (region: string) => EC2Client, regions: readonly string[], concurrency = 4): Promise<EbsEncryptionOutcome[]> {
  const outcomes: EbsEncryptionOutcome[] = new Array(regions.length);
  let next = 0;
  const worker = async () => {
    while (next < regions.length) {
      const i = next++;
      outcomes[i] = await enableEbsEncryptionByDefault(clientFor(regions[i]), regions[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, regions.length) }, worker));
  return outcomes;
}
