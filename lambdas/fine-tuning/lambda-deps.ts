import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { TRAINING_FILES_PREFIX } from '../../lib/fine-tuning.js';
import { S3FileStore } from './stores/s3-file-store.js';
import type { FileLocation } from './stores/file-store.js';
import { roleArn, tenantRoleName } from '../../lib/tenant-naming.js';
import { GATEWAY_ENV, lambdaStore, lambdaTenantClients } from '../inference/lambda-deps.js';
import { dynamoDbTenantModels } from './stores/dynamodb-tenant-models.js';
import type { TenantModels } from './stores/tenant-models.js';
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
export const launcherSageMaker = (target: Pick<TrainingTarget, 'tenantId' | 'accountId'>): Promise<SageMakerClient> =>
  tenantRoleClient(SageMakerClient, roleArn('aws', target.accountId, tenantRoleName(target.tenantId, 'training-launcher')), target.tenantId, 'fine-tuning');

let jobs: DynamoDbJobStore | undefined;
/** The jobs table, each call as its tenant (a session of the tenant-data role). */
export const lambdaJobStore = () => (jobs ??= new DynamoDbJobStore(requireEnv(FINE_TUNING_ENV.jobsTable), async (tenantId) => (await lambdaTenantClients()).jobDocuments(tenantId)));

/**
 * S3 on the tenant's bucket as the tenant's training-files role, which may touch only
 * `training-data/files/` of that bucket and use the tenant key only through S3 (the blueprint's IAM).
 */
const filesS3 = (at: FileLocation): Promise<S3Client> =>
  tenantRoleClient(S3Client, roleArn('aws', at.accountId, tenantRoleName(at.tenantId, 'training-files')), at.tenantId, 'fine-tuning-files');

let files: S3FileStore | undefined;
/** The Files API's files, in each tenant's own bucket. */
export const lambdaFileStore = () => (files ??= new S3FileStore(TRAINING_FILES_PREFIX, filesS3));

let tenantModels: Promise<TenantModels> | undefined;
/** The registry's `fineTunedModels`, changed as the tenant (a session of the tenant-data role: `fineTunedModels` and `updatedAt` only). */
export const lambdaTenantModels = () => (tenantModels ??= Promise.all([lambdaStore(), lambdaTenantClients()])
  .then(([store, clients]) => dynamoDbTenantModels(requireEnv(GATEWAY_ENV.registryTable), store, clients.documents)));
