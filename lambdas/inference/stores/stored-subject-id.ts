import { hash } from 'node:crypto';

/**
 * A subject id as item ids and the `subjects` set keep it: itself up to 256 characters (key ids
 * are 20, Cognito subs 36), a longer one (some identity providers' `sub`) as `~` + its SHA-256 in
 * base64url, so no id passes DynamoDB's 2,048-byte partition key.
 */
export const storedSubjectId = (id: string) => (id.length <= 256 ? id : `~${hash('sha256', id, 'base64url')}`);
