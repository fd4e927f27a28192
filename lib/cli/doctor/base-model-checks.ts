import { BatchGetImageCommand } from '@aws-sdk/client-ecr';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describeAwsError, errorName, isNotFound } from '../aws-errors.js';
import { result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

/** AWS Deep Learning Containers' registry: any account may pull its images. Source: github.com/aws/deep-learning-containers available_images.md. */
export const DLC_REGISTRY = '763104351884';

/** Parts of an ECR image URI `<registry>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>`. @returns undefined when it is not one */
export function parseImageUri(uri: string): { registryId: string; region: string; repositoryName: string; imageTag: string } | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([\w./-]+):([\w.-]+)$/.exec(uri);
  return m ? { registryId: m[1], region: m[2], repositoryName: m[3], imageTag: m[4] } : undefined;
}

/** Bucket and key prefix of `s3://bucket/prefix/`. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  return { bucket: m?.[1] ?? '', prefix: m?.[2] ?? '' };
}

/**
 * Check 7: each `fineTuning.baseModels[*].weightsS3Uri` has at least one object under its prefix, and
 * each training and serving image exists (read from the platform account; AWS Deep Learning
 * Containers in 763104351884 are pullable by any account).
 * Calls (platform account): s3:ListObjectsV2 (MaxKeys 1), ecr:BatchGetImage in the image's Region.
 */
export async function baseModelChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const account = ctx.config.platformAccountId;
  const access = await ctx.clientsIn(account);
  const out: Array<Promise<CheckResult>> = [];
  for (const base of ctx.config.fineTuning.baseModels) {
    const id = `base-model-weights:${base.id}`;
    const title = `Weights of ${base.id}`;
    const where = { account, region: ctx.region };
    const upload = `aws s3 sync <local folder with the ${base.id} weights> ${base.weightsS3Uri}`;
    out.push((async () => {
      if (!access.ok) return unreadable(id, title, access, account, ctx.region);
      const { bucket, prefix } = parseS3Uri(base.weightsS3Uri);
      try {
        const page = await access.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
        return (page.KeyCount ?? page.Contents?.length ?? 0) > 0
          ? result(id, title, 'pass', `${base.weightsS3Uri} has objects (first: ${page.Contents?.[0]?.Key})`, where)
          : result(id, title, 'fail', `${base.weightsS3Uri} is empty`, { ...where, fix: upload });
      } catch (e) {
        if (errorName(e) === 'NoSuchBucket') return result(id, title, 'fail', `bucket ${bucket} does not exist`, { ...where, fix: `aws s3 mb s3://${bucket} --region ${ctx.region} (in account ${account}), then ${upload}` });
        return result(id, title, 'fail', describeAwsError(`s3:ListObjectsV2 ${base.weightsS3Uri}`, e), { ...where, fix: `let account ${account} list s3://${bucket}/${prefix} (bucket policy), or correct fineTuning.baseModels "${base.id}" weightsS3Uri` });
      }
    })());
  }
  const images = new Map<string, string[]>();
  for (const base of ctx.config.fineTuning.baseModels) {
    for (const [kind, uri] of [['training', base.trainingImage], ['serving', base.servingImage]] as const) {
      images.set(uri, [...(images.get(uri) ?? []), `${base.id} ${kind}`]);
    }
  }
  for (const [uri, users] of images) {
    const image = parseImageUri(uri);
    const id = `base-model-image:${uri}`;
    const title = `Image ${image ? `${image.repositoryName}:${image.imageTag}` : uri}`;
    const where = { account: image?.registryId ?? account, region: image?.region ?? ctx.region };
    const used = `used by ${users.join(', ')}`;
    out.push((async () => {
      if (!image) return result(id, title, 'fail', `not an ECR image URI (${used})`, { ...where, fix: 'use <registry>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>' });
      if (!access.ok) return unreadable(id, title, access, account, ctx.region);
      const dlc = image.registryId === DLC_REGISTRY ? ' (AWS Deep Learning Containers, pullable by any account)' : '';
      const fix = `correct the image of ${users.join(', ')} in fineTuning.baseModels (aws ecr describe-images --registry-id ${image.registryId} --repository-name ${image.repositoryName} --region ${image.region}), or push it`;
      try {
        const out = await access.clients.ecr(image.region).send(new BatchGetImageCommand({ registryId: image.registryId, repositoryName: image.repositoryName, imageIds: [{ imageTag: image.imageTag }], acceptedMediaTypes: ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'] }));
        if ((out.images ?? []).length > 0) return result(id, title, 'pass', `exists in ${image.registryId}/${image.region}${dlc}, ${used}`, where);
        const failure = out.failures?.[0];
        return result(id, title, 'fail', `tag ${image.imageTag} not found in ${image.repositoryName} (${failure?.failureCode ?? 'no image'}${failure?.failureReason ? `: ${failure.failureReason}` : ''})${dlc}, ${used}`, { ...where, fix });
      } catch (e) {
        if (isNotFound(e)) return result(id, title, 'fail', `repository ${image.repositoryName} not found in registry ${image.registryId} (${image.region})${dlc}, ${used}`, { ...where, fix });
        return result(id, title, 'fail', `${describeAwsError(`ecr:BatchGetImage ${uri}`, e)}${dlc}, ${used}`, { ...where, fix: image.registryId === DLC_REGISTRY ? `grant ecr:BatchGetImage to ${access.via}` : `let account ${account} pull from ${image.registryId}/${image.repositoryName} (repository policy), or ${fix}` });
      }
    })());
  }
  return Promise.all(out);
}
