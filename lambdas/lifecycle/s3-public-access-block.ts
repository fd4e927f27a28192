import { PutPublicAccessBlockCommand, type PublicAccessBlockConfiguration, type S3ControlClient } from '@aws-sdk/client-s3-control';

/**
 * Account-level S3 Block Public Access in a tenant account (LZA's `s3PublicAccessBlock`; Security Hub's S3.1, "S3 general
 * purpose buckets should have block public access settings enabled", whose resource is the account and whose Config rule is
 * `s3-account-level-public-access-blocks-periodic`). S3 Control's PutPublicAccessBlock "creates or modifies the
 * PublicAccessBlock configuration for an AWS account" (Amazon S3 API Reference, PutPublicAccessBlock): one setting per
 * account, which S3 applies to every bucket and access point of the account in every region, the most restrictive of it
 * and a bucket's own. The call overwrites the account's configuration with the one sent: safe to repeat.
 *
 * Sent to the S3 Control endpoint of one region, `<AccountId>.s3-control.<region>.amazonaws.com` (the SDK puts the
 * account id in the host and in `x-amz-account-id`): the platform's home region (set-s3-public-access-block.ts).
 */

/** All four settings on, as Security Hub's S3.1 and the Config rule's defaults ask (Amazon S3 API Reference, PublicAccessBlockConfiguration). */
export const FULL_PUBLIC_ACCESS_BLOCK = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
} as const satisfies Required<PublicAccessBlockConfiguration>;

/**
 * The S3 action the step needs, and the only one its provisioning session may use (its STS session policy):
 * PutPublicAccessBlock is authorized as `s3:PutAccountPublicAccessBlock` (Amazon S3 API Reference; Service Authorization
 * Reference, Actions defined by Amazon S3, where the action has no resource type: `Resource` is `*`). Nothing is read
 * back: PutPublicAccessBlock answers 200 with an empty body or an error, and a read right after a put may still see the
 * old settings while they propagate.
 */
export const S3_PUBLIC_ACCESS_BLOCK_ACTIONS = ['s3:PutAccountPublicAccessBlock'] as const;

/**
 * The session policy of *Set S3 Block Public Access*'s provisioning session (STS AssumeRole `Policy`): the role
 * Organizations creates in a vended account has AdministratorAccess, and a session policy leaves the session only what
 * both allow. The action has no resource type (Service Authorization Reference, Amazon S3): `Resource` is `*`.
 */
export const S3_PUBLIC_ACCESS_BLOCK_SESSION_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: [...S3_PUBLIC_ACCESS_BLOCK_ACTIONS], Resource: '*' }],
});

/**
 * S3 refused the tenant account's PutPublicAccessBlock (AccessDenied): an SCP or permissions boundary denying
 * s3:PutAccountPublicAccessBlock, or an organization-level S3 Block Public Access policy (an Organizations S3 policy),
 * which overrides the account's settings and refuses their change ("You might get an Access Denied (403) error when the
 * account is managed by organization-level Block Public Access policies", PutPublicAccessBlock). The message names both.
 */
export class S3PublicAccessBlockDeniedError extends Error {
  override readonly name = 'S3PublicAccessBlockDenied';
}

/**
 * Turns all four account-level S3 Block Public Access settings on in account `accountId` (S3 Control
 * PutPublicAccessBlock with `AccountId` and {@link FULL_PUBLIC_ACCESS_BLOCK}), as the account itself.
 * @param s3control an S3 Control client with credentials in account `accountId` (the provisioning session)
 * @param accountId the tenant's 12-digit account id (`x-amz-account-id`, pattern `^\d{12}$`)
 * @returns the configuration S3 took
 * @throws S3PublicAccessBlockDeniedError on AccessDenied, naming an SCP and an organization-level Block Public Access
 *   policy; any other S3 Control error as it is (throttling past the SDK's retries, a server error): the step fails, and
 *   `tessera tenants retry` runs it again (the put overwrites)
 */
export async function putAccountPublicAccessBlock(s3control: S3ControlClient, accountId: string): Promise<typeof FULL_PUBLIC_ACCESS_BLOCK> {
  try {
    await s3control.send(new PutPublicAccessBlockCommand({ AccountId: accountId, PublicAccessBlockConfiguration: { ...FULL_PUBLIC_ACCESS_BLOCK } }));
  } catch (e) {
    const err = e as { name?: string; message?: string };
    if (err.name === 'AccessDenied' || err.name === 'AccessDeniedException') {
      throw new S3PublicAccessBlockDeniedError(`s3:PutAccountPublicAccessBlock in account ${accountId} was denied (${err.name}: ${err.message ?? String(e)}): `
        + 'an SCP or the provisioning role\'s permissions deny it, or an organization-level S3 Block Public Access policy (an Organizations S3 policy) '
        + 'manages the account, whose settings it then sets and whose change it refuses; lift the deny and retry, or, with such a policy, drop the tier\'s s3PublicAccessBlock (redeploy) and retry');
    }
    throw e;
  }
  return FULL_PUBLIC_ACCESS_BLOCK;
}
