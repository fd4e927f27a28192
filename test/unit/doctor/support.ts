import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { loadConfig } from '../../../lib/config/load-config.js';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import { accountAccess } from '../../../lib/cli/doctor/account-access.js';
import { awsClientFactory } from '../../../lib/cli/doctor/clients.js';
import type { DoctorContext } from '../../../lib/cli/doctor/types.js';

export const MANAGEMENT = '444444444444';
export const PLATFORM = '555555555555';
export const WORKLOAD = '666666666666';
export const REGION = 'us-east-1';

/** A config of a made-up organization (no placeholder of the embedded default left), with `overrides` merged over it. */
export function testConfig(overrides: Record<string, unknown> = {}): PlatformConfig {
  const base = {
    organization: { managementAccountId: MANAGEMENT, organizationId: 'o-abcdefghij', rootId: 'r-abcd', accountEmail: 'aws+tessera-{tenantId}@platform.acme.test' },
    platformAccountId: PLATFORM,
    workloadAccountId: WORKLOAD,
    fineTuning: {
      baseModels: [{
        id: 'llama-3.1-8b-instruct',
        trainingImage: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.1.0-transformers4.36.0-gpu-py310-cu121-ubuntu20.04',
        servingImage: '777777777777.dkr.ecr.us-east-1.amazonaws.com/tgi:2.2.0',
        weightsS3Uri: `s3://acme-base-models-${PLATFORM}/llama-3.1-8b-instruct/`,
        inputPricePer1k: 0.0002, outputPricePer1k: 0.0002,
      }],
    },
  };
  return loadConfig({ overrides: mergeDeep(base, overrides) });
}

function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object' ? mergeDeep(a[k] as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** STS mock answering AssumeRole with credentials named after the role (so tests can tell whose client called). */
export function mockSts(refuse: (roleArn: string) => boolean = () => false) {
  const sts = mockStrict(STSClient, 'sts', STSServiceException);
  sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => {
    if (refuse(input.RoleArn)) {
      throw Object.assign(new Error(`User: arn:aws:iam::${MANAGEMENT}:user/eng is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
    }
    return { Credentials: { AccessKeyId: `AKIA-${input.RoleArn.split('/')[1]}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 900_000) } };
  });
  return sts;
}

/** The context the runner builds, with the real client factory (aws-sdk-client-mock intercepts every instance). */
export function testContext(config: PlatformConfig = testConfig(), callerAccount = MANAGEMENT): DoctorContext {
  const factory = awsClientFactory({ maxAttempts: 1 });
  const caller = factory({ accessKeyId: 'AKIA-caller', secretAccessKey: 's' }, REGION);
  return {
    config, region: REGION, callerAccount, caller, callerIn: (r) => factory({ accessKeyId: 'AKIA-caller', secretAccessKey: 's' }, r),
    clientsIn: accountAccess({
      factory, region: REGION, callerAccount, caller, managementAccount: config.organization.managementAccountId,
      fallbackRoles: { [config.workloadAccountId]: [config.roles.provisioningRoleName] },
    }),
  };
}

/** An AWS-style service error. */
export function awsError(name: string, message = name, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
}

/** The access key a mocked call was signed with (tells which account's client made it). */
export async function accessKeyOf(call: { thisValue: unknown }): Promise<string> {
  const client = call.thisValue as { config: { credentials: () => Promise<{ accessKeyId: string }> } };
  return (await client.config.credentials()).accessKeyId;
}

/** A URL-encoded trust policy, as IAM GetRole returns it. */
export function trustDocument(...principals: string[]): string {
  return encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: principals.length === 1 ? principals[0] : principals }, Action: 'sts:AssumeRole' }] }));
}
