import { describe, expect, it } from 'vitest';
import { BaseModelSchema } from '../../../lib/config/schema.js';
import { MAX_SAGEMAKER_IMAGE_CHARS, MAX_SAGEMAKER_S3_URI_CHARS } from '../../../lib/sagemaker-limits.js';

/**
 * A fine-tuning base model's images and weights become SageMaker parameters with length limits (CreateTrainingJob
 * TrainingImage and CreateModel Image: 255; a channel's S3Uri: 1024), which SageMaker answers ValidationException past,
 * as the tests' moto does (refuse_sagemaker_parameters_as_aws, test/integration/moto-aws-answers.test.ts). The config
 * refuses them at synth, naming the field and the length, instead of every job failing in AWS.
 */
describe('fine-tuning base model: SageMaker parameter lengths', () => {
  /** An ECR image URI with a tag, of exactly `n` characters (valid: ECR repository names reach 256 characters). */
  const image = (n: number) => { const head = '763104351884.dkr.ecr.us-east-1.amazonaws.com/'; return `${head}${'r'.repeat(n - head.length - 2)}:1`; };
  /** An s3://bucket/prefix/ URI of exactly `n` characters. */
  const weights = (n: number) => `s3://weights-bucket/${'k'.repeat(n - 's3://weights-bucket/'.length - 1)}/`;
  const base = (over: Record<string, string>) => ({ id: 'llama', trainingImage: image(80), servingImage: image(80), weightsS3Uri: weights(60), inputPricePer1k: 0, outputPricePer1k: 0, ...over });
  const issues = (over: Record<string, string>) => BaseModelSchema.safeParse(base(over)).error?.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));

  it('refuses a trainingImage or servingImage of 256 characters and weightsS3Uri of 1025, naming the field and the SageMaker parameter; takes 255 and 1024', () => {
    expect(MAX_SAGEMAKER_IMAGE_CHARS).toBe(255);
    expect(MAX_SAGEMAKER_S3_URI_CHARS).toBe(1024);
    expect(issues({ trainingImage: image(256) })).toEqual([{ path: 'trainingImage', message: expect.stringMatching(/^is 256 characters; CreateTrainingJob AlgorithmSpecification\.TrainingImage takes at most 255/) }]);
    expect(issues({ servingImage: image(256) })).toEqual([{ path: 'servingImage', message: expect.stringMatching(/^is 256 characters; CreateModel PrimaryContainer\.Image takes at most 255/) }]);
    expect(issues({ weightsS3Uri: weights(1025) })).toEqual([{ path: 'weightsS3Uri', message: expect.stringMatching(/^is 1025 characters; CreateTrainingJob's channel S3Uri takes at most 1024/) }]);
    expect(issues({ trainingImage: image(255), servingImage: image(255), weightsS3Uri: weights(1024) })).toBeUndefined();
  });
});
