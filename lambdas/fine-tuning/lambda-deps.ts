import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { roleArn, tenantRoleName } from '../../lib/tenant-naming.js';
import { lambdaTenantClients } from '../inference/lambda-deps.js';
import { requireEnv } from '../shared/environment.js';
import { FINE_TUNING_ENV } from './fine-tuning-env.js';
import { tenantRoleClient } from '../shared/tenant-role-clients.js';
import type { TrainingTarget } from './sagemaker-requests.js';
import { DynamoDbJobStore } from './stores/dynamodb-job-store.js';

export { FINE_TUNING_ENV };

/**
 * SageMaker in the tenant's account, as the tenant's training-launcher role: it may pass only that
 * tenant's training role, use only that tenant's key, and create only `<tenant>-ft-*` resources
 * with the isolation settings on (the blueprint's IAM conditions), whatever this Lambda asks.
 */
export const launcherSageMaker = (target: TrainingTarget): Promise<SageMakerClient> =>
  tenantRoleClient(SageMakerClient, roleArn('aws', target.accountId, tenantRoleName(target.tenantId, 'training-launcher')), target.tenantId, 'fine-tuning');

let jobs: DynamoDbJobStore | undefined;
/** The jobs table, each call as its tenant (a session of the tenant-data role). */
export const lambdaJobStore = () => (jobs ??= new DynamoDbJobStore(requireEnv(FINE_TUNING_ENV.jobsTable), async (tenantId) => (await lambdaTenantClients()).jobDocuments(tenantId)));
