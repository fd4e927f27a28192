import { TRAINING_DATA_PREFIX, TRAINING_UPLOADS_PREFIX } from '../../lib/fine-tuning.js';
import { MAX_SAGEMAKER_S3_URI_CHARS } from '../../lib/sagemaker-limits.js';
import { invalid } from '../inference/openai-errors.js';

/** The longest object key S3 stores, in UTF-8 bytes (S3 User Guide, "Naming Amazon S3 objects"). */
const MAX_S3_KEY_BYTES = 1024;

/**
 * Resolves a caller's `training_file` to an S3 URI inside its own bucket and training prefix:
 * `s3://<tenant bucket>/training-data/...` or a bare key `training-data/...`. Anything else (another
 * bucket, another prefix, `..`, an encoded path, a directory, a key longer than S3 stores, a URI longer than
 * SageMaker's channel `S3Uri` takes, a key inside the Uploads API's `training-data/files/uploads/` or a prefix of it) is a
 * 400 naming the field and value: CreateTrainingJob would refuse the URI that is too long (a 502 and a failed job), no
 * object has a key that is too long, and the uploads' records and parts are no training data.
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
  // The Uploads API's own records and parts (upload.json, a part cut anywhere in a line) are no training data: a key in
  // there, or one the uploads' prefix starts with (the channel is an S3Prefix: `training-data/files` reads every object
  // under it, the uploads' too), trained on them, the job failing or training on fragments hours later, billed.
  if (key.startsWith(TRAINING_UPLOADS_PREFIX)) {
    throw refuse(`is inside ${TRAINING_UPLOADS_PREFIX}, where the Uploads API keeps its uploads' records and parts, which are not training data: name the completed upload's file (its file.id)`);
  }
  if (TRAINING_UPLOADS_PREFIX.startsWith(key)) {
    throw refuse(`is a prefix of ${TRAINING_UPLOADS_PREFIX}: a training channel reads every object whose key starts with it, the Uploads API's records and parts too, which are not training data; name a file id (POST /v1/files) or the key of your own data`);
  }
  if (Buffer.byteLength(key) > MAX_S3_KEY_BYTES) throw refuse(`is a key of ${Buffer.byteLength(key)} bytes; S3 keys have at most ${MAX_S3_KEY_BYTES}`);
  const uri = `s3://${bucket}/${key}`;
  const chars = [...uri].length;
  if (chars > MAX_SAGEMAKER_S3_URI_CHARS) throw refuse(`is ${chars} characters as s3://${bucket}/<key>; a SageMaker training channel's S3Uri takes at most ${MAX_SAGEMAKER_S3_URI_CHARS}: use a shorter key`);
  return uri;
}
