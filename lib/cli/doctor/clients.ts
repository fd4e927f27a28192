import { BedrockClient } from '@aws-sdk/client-bedrock';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { ECRClient } from '@aws-sdk/client-ecr';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { HTTP_TIMEOUTS } from '../../aws-http-timeouts.js';
import { costExplorerRegionOf } from './cost-allocation-tag-checks.js';

/** The SDK clients doctor reads with, all in one account and Region. ECR is per call (images live in any account and Region). */
export interface AwsClients {
  readonly organizations: OrganizationsClient;
  readonly sts: STSClient;
  readonly iam: IAMClient;
  readonly ssm: SSMClient;
  readonly secretsManager: SecretsManagerClient;
  readonly bedrock: BedrockClient;
  readonly s3: S3Client;
  readonly serviceQuotas: ServiceQuotasClient;
  readonly cloudFormation: CloudFormationClient;
  /** CloudTrail (the organization trails that cover the tenant accounts). */
  readonly cloudTrail: CloudTrailClient;
  readonly ec2: EC2Client;
  readonly eks: EKSClient;
  /** RDS (the Region's orderable DB instance classes). */
  readonly rds: RDSClient;
  /** ElastiCache (the Region's reserved-node offerings, which show its node types). */
  readonly elastiCache: ElastiCacheClient;
  readonly cognito: CognitoIdentityProviderClient;
  readonly ssoAdmin: SSOAdminClient;
  /** SES v2 (the budget alert mail's sender identities and sandbox state). */
  readonly sesv2: SESv2Client;
  /** SES v2 in `region`, same credentials (the user pool's SES identity, `identity.email.sesRegion`, may be in another Region). */
  sesv2In(region: string): SESv2Client;
  /** Lambda (the account's concurrency quota and the platform functions' reservations). */
  readonly lambda: LambdaClient;
  /** Cost Explorer at its partition's one endpoint (us-east-1; cn-northwest-1 in China), whatever the Region (the cost allocation tag). */
  readonly costExplorer: CostExplorerClient;
  /** ECR in `region` (an image URI names its registry's Region). */
  ecr(region: string): ECRClient;
  /** Bedrock in `region`, same credentials (a Bedrock deployment, `gateway.models[].deployments[].region`, is called there). */
  bedrockIn(region: string): BedrockClient;
}

/** Credentials for a client: static ones (an assumed role's), a provider (a profile's), or undefined for the default chain. */
export type Credentials = AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;

/**
 * Builds the clients for one set of credentials and one Region. Injectable: unit tests pass the
 * default (aws-sdk-client-mock intercepts every instance), the moto test passes `endpoint`.
 */
export type ClientFactory = (credentials: Credentials, region: string) => AwsClients;

export interface ClientFactoryOptions {
  /** Endpoint of every client (moto). @default - the SDK's: `AWS_ENDPOINT_URL` when set, else AWS */
  readonly endpoint?: string;
  /** Attempts per call (the SDK's retries included). @default 2 (doctor is interactive: fail fast) */
  readonly maxAttempts?: number;
}

/**
 * The real factory. S3 uses path-style addressing when an endpoint override is in force
 * (`endpoint` or `AWS_ENDPOINT_URL`), since a local endpoint has no bucket subdomains.
 */
export function awsClientFactory(options: ClientFactoryOptions = {}): ClientFactory {
  return (credentials, region) => {
    // The `control` HTTP timeouts (lib/aws-http-timeouts.ts): a hung connection fails the check instead of the run.
    const common = { region, credentials, maxAttempts: options.maxAttempts ?? 2, requestHandler: { ...HTTP_TIMEOUTS.control }, ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
    const ecr = new Map<string, ECRClient>();
    const bedrock = new BedrockClient(common);
    const bedrocks = new Map<string, BedrockClient>([[region, bedrock]]);
    const sesv2 = new SESv2Client(common);
    const sesv2s = new Map<string, SESv2Client>([[region, sesv2]]);
    return {
      organizations: new OrganizationsClient(common),
      sts: new STSClient(common),
      iam: new IAMClient(common),
      ssm: new SSMClient(common),
      secretsManager: new SecretsManagerClient(common),
      bedrock,
      s3: new S3Client({ ...common, forcePathStyle: Boolean(options.endpoint ?? process.env.AWS_ENDPOINT_URL) }),
      serviceQuotas: new ServiceQuotasClient(common),
      cloudFormation: new CloudFormationClient(common),
      cloudTrail: new CloudTrailClient(common),
      ec2: new EC2Client(common),
      eks: new EKSClient(common),
      rds: new RDSClient(common),
      elastiCache: new ElastiCacheClient(common),
      cognito: new CognitoIdentityProviderClient(common),
      ssoAdmin: new SSOAdminClient(common),
      sesv2,
      lambda: new LambdaClient(common),
      costExplorer: new CostExplorerClient({ ...common, region: costExplorerRegionOf(region) }),
      ecr(r: string) {
        if (!ecr.has(r)) ecr.set(r, new ECRClient({ ...common, region: r }));
        return ecr.get(r)!;
      },
      sesv2In(r: string) {
        if (!sesv2s.has(r)) sesv2s.set(r, new SESv2Client({ ...common, region: r }));
        return sesv2s.get(r)!;
      },
      bedrockIn(r: string) {
        if (!bedrocks.has(r)) bedrocks.set(r, new BedrockClient({ ...common, region: r }));
        return bedrocks.get(r)!;
      },
    };
  };
}
