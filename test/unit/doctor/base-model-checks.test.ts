import { BatchGetImageCommand, ECRClient, ECRServiceException } from '@aws-sdk/client-ecr';
import { ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { baseModelChecks, parseImageUri } from '../../../lib/cli/doctor/base-model-checks.js';
import { awsError, mockSts, PLATFORM, testContext } from './support.js';

const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const ecr = mockStrict(ECRClient, 'ecr', ECRServiceException);
const DLC = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.1.0-transformers4.36.0-gpu-py310-cu121-ubuntu20.04';
const OWN = '777777777777.dkr.ecr.us-east-1.amazonaws.com/tgi:2.2.0';

beforeEach(() => {
  s3.reset();
  ecr.reset();
  mockSts();
  s3.on(ListObjectsV2Command).resolves({ KeyCount: 1, Contents: [{ Key: 'llama-3.1-8b-instruct/config.json' }] });
  ecr.on(BatchGetImageCommand).callsFake((input: { repositoryName: string; imageIds: Array<{ imageTag: string }> }) => ({ images: [{ repositoryName: input.repositoryName, imageId: input.imageIds[0] }], failures: [] }));
});

describe('base-model weights and images', () => {
  it('parses an ECR image URI', () => {
    expect(parseImageUri(OWN)).toEqual({ registryId: '777777777777', region: 'us-east-1', repositoryName: 'tgi', imageTag: '2.2.0' });
    expect(parseImageUri('docker.io/library/nginx:1')).toBeUndefined();
  });

  it('passes weights with an object under the prefix and both images, asking with MaxKeys 1 and the registry id', async () => {
    const lines = await baseModelChecks(testContext());
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ['base-model-weights:llama-3.1-8b-instruct', 'pass'],
      [`base-model-image:${DLC}`, 'pass'],
      [`base-model-image:${OWN}`, 'pass'],
    ]);
    expect(s3.commandCalls(ListObjectsV2Command)[0].args[0].input).toEqual({ Bucket: `acme-base-models-${PLATFORM}`, Prefix: 'llama-3.1-8b-instruct/', MaxKeys: 1 });
    expect(ecr.commandCalls(BatchGetImageCommand).map((c) => c.args[0].input.registryId)).toEqual(['763104351884', '777777777777']);
    expect(lines[1].detail).toContain('(AWS Deep Learning Containers, pullable by any account)');
  });

  it('fails an empty prefix with the upload command', async () => {
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    const [weights] = await baseModelChecks(testContext());
    expect(weights).toMatchObject({ status: 'fail', detail: `s3://acme-base-models-${PLATFORM}/llama-3.1-8b-instruct/ is empty`, fix: `aws s3 sync <local folder with the llama-3.1-8b-instruct weights> s3://acme-base-models-${PLATFORM}/llama-3.1-8b-instruct/` });
  });

  it('fails a missing bucket with mb then sync', async () => {
    s3.on(ListObjectsV2Command).rejects(awsError('NoSuchBucket', 'The specified bucket does not exist'));
    const [weights] = await baseModelChecks(testContext());
    expect(weights).toMatchObject({ status: 'fail', detail: `bucket acme-base-models-${PLATFORM} does not exist` });
    expect(weights.fix).toMatch(/^aws s3 mb s3:\/\/acme-base-models-555555555555 --region us-east-1/);
  });

  it('translates AccessDenied on the bucket', async () => {
    s3.on(ListObjectsV2Command).rejects(awsError('AccessDenied', 'Access Denied', 403));
    const [weights] = await baseModelChecks(testContext());
    expect(weights.detail).toMatch(/^s3:ListObjectsV2 s3:\/\/acme-base-models-555555555555\/llama-3.1-8b-instruct\/ failed: AccessDenied/);
  });

  it('fails a missing tag (a BatchGetImage failure) and a missing repository (RepositoryNotFoundException)', async () => {
    ecr.on(BatchGetImageCommand, { registryId: '763104351884' }).resolves({ images: [], failures: [{ failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Requested image not found' }] });
    ecr.on(BatchGetImageCommand, { registryId: '777777777777' }).rejects(awsError('RepositoryNotFoundException', 'The repository with name \'tgi\' does not exist'));
    const [, dlc, own] = await baseModelChecks(testContext());
    expect(dlc.status).toBe('fail');
    expect(dlc.detail).toMatch(/^tag 2.1.0-transformers4.36.0-gpu-py310-cu121-ubuntu20.04 not found in huggingface-pytorch-training \(ImageTagDoesNotMatchDigest: Requested image not found\)/);
    expect(own).toMatchObject({ status: 'fail', detail: 'repository tgi not found in registry 777777777777 (us-east-1), used by llama-3.1-8b-instruct serving' });
    expect(own.fix).toContain('aws ecr describe-images --registry-id 777777777777 --repository-name tgi --region us-east-1');
  });
});
