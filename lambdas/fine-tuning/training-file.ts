import { TRAINING_DATA_PREFIX } from '../../lib/fine-tuning.js';
import { invalid } from '../inference/openai-errors.js';

/**
 * Resolves a caller's `training_file` to an S3 URI inside its own bucket and training prefix:
 * `s3://<tenant bucket>/training-data/...` or a bare key `training-data/...`. Anything else (another
 * bucket, another prefix, `..`, an encoded path, a directory) is a 400 naming the field and value.
 */
export function resolveTrainingFile(value: string, tenantBucket: string, field = 'training_file'): string {
  const refuse = (why: string) => invalid(`${field} "${value}" ${why}`, field, 'invalid_training_file');
  let bucket = tenantBucket;
  let key = value;
  if (value.startsWith('s3://')) {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(value);
    if (!m) throw refuse('is not an s3://bucket/key URI');
    [, bucket, key] = m;
    if (bucket !== tenantBucket) throw refuse(`is outside your tenant bucket (${tenantBucket}); training data must be uploaded there`);
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    throw refuse('must be an s3:// URI or a key in your tenant bucket');
  }
  if (key.split('/').some((part) => part === '..' || part === '.')) throw refuse('must not contain "." or ".." path segments');
  if (/[%\\\u0000-\u001f]/.test(key)) throw refuse('must not contain encoded, control or backslash characters');
  if (!key.startsWith(TRAINING_DATA_PREFIX) || key.length === TRAINING_DATA_PREFIX.length) throw refuse(`must be a file under ${TRAINING_DATA_PREFIX} of your tenant bucket`);
  if (key.endsWith('/') || key.includes('//')) throw refuse('must name a file, not a folder');
  return `s3://${bucket}/${key}`;
}
