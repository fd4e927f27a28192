import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { GATEWAY_ENV } from '../lambdas/inference/gateway-env.js';
import { acknowledge } from '../lib/compliance.js';
import type { LambdaFunction } from './lambda-function.js';
import { decryptThrough } from './platform-key-decrypt.js';

/** The secret's name: under `tessera/platform/`, outside the provider keys' `tessera/providers/` the router reads by pattern. */
export const REASONING_SEAL_SECRET_NAME = 'tessera/platform/reasoning-seal';

/**
 * The platform's secret of the reasoning seal (`include: ["reasoning.encrypted_content"]`:
 * lambdas/inference/responses/reasoning-seal.ts derives each tenant's AES-256-GCM key from it with HKDF): a 64-character
 * string Secrets Manager generates at create, encrypted with the platform key; the router alone may read it
 * (GetSecretValue on this secret, kms:Decrypt through Secrets Manager for this secret only), and it learns the ARN from
 * `TESSERA_REASONING_SEAL_SECRET_ARN`. Read once per cold start (lambda-deps.ts lambdaReasoningSeal).
 * @returns the secret
 */
export function reasoningSealSecret(scope: Construct, router: LambdaFunction, encryptionKey: kms.IKey): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, 'ReasoningSealSecret', {
    secretName: REASONING_SEAL_SECRET_NAME,
    description: 'Tessera gateway: seals reasoning items for include reasoning.encrypted_content (HKDF per tenant, AES-256-GCM); read by the router only',
    encryptionKey,
    generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
  });
  // Not rotated: the blobs sealed with it are held by clients between a conversation's turns (a ZDR app's only copy of
  // its reasoning items), and a new value would make every one of them a 400 invalid_encrypted_content at the next turn.
  acknowledge(secret, ['AwsSolutions-SMG4', 'HIPAA.Security-SecretsManagerRotationEnabled', 'NIST.800.53.R5-SecretsManagerRotationEnabled'],
    'Not rotated on a schedule: it seals reasoning items that clients carry between the turns of a conversation (with store: false their only copy), and a rotated value would make every blob in flight a 400 invalid_encrypted_content at the next turn; it never leaves Secrets Manager and the router, which alone can read it.');
  // A managed policy of its own beside the router's function policy (in FunctionPolicies, like batch-work.ts's
  // WorkQueuesKey), which has no room left under IAM's 6,144 characters (test/infra/iam-policy-sizes.test.ts).
  new iam.ManagedPolicy(router.policyHome, 'ReasoningSeal', {
    description: 'Tessera router: reads the reasoning seal secret (include reasoning.encrypted_content)', roles: [router.role],
    statements: [
      new iam.PolicyStatement({ sid: 'ReasoningSealSecret', actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
      decryptThrough(scope, 'PlatformKeyThroughSecretsManagerForReasoningSeal', encryptionKey.keyArn, { service: 'secretsmanager', secretArnPattern: secret.secretArn }),
    ],
  });
  router.function.addEnvironment(GATEWAY_ENV.reasoningSealSecret, secret.secretArn);
  return secret;
}
