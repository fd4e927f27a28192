/** Reading an IAM role's trust policy (`AssumeRolePolicyDocument`, URL-encoded JSON as IAM returns it). */

import { parsePolicyDocument } from '../../iam-policy-document.js';

interface Statement { Effect?: string; Action?: string | string[]; Principal?: string | { AWS?: string | string[] } }

/** Parses the document IAM's GetRole returns (URL-encoded) or plain JSON. @returns undefined when it is not JSON */
export const parseTrustPolicy = (document: string | undefined) => parsePolicyDocument<{ Statement?: Statement | Statement[] }>(document);

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Whether the trust policy lets principals of `accountId` call sts:AssumeRole: an Allow statement
 * with `sts:AssumeRole` (or `sts:*`, `*`) whose `Principal.AWS` is the account (`<id>`,
 * `arn:<partition>:iam::<id>:root`) or a principal of it (`arn:...:iam::<id>:role/...`), or `*`.
 * Conditions are not evaluated (a condition can only narrow the trust).
 */
export function trustsAccount(document: string | undefined, accountId: string): boolean {
  const policy = parseTrustPolicy(document);
  if (!policy) return false;
  return list(policy.Statement).some((s) => s.Effect === 'Allow'
    && list(s.Action).some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*')
    && (s.Principal === '*' || (typeof s.Principal === 'object' && list(s.Principal.AWS).some((p) => p === '*' || p === accountId || new RegExp(`^arn:aws[a-z-]*:(iam|sts)::${accountId}:`).test(p)))));
}

/** The AWS principals the trust policy names (for the report). */
export function trustedPrincipals(document: string | undefined): string[] {
  const policy = parseTrustPolicy(document);
  return list(policy?.Statement).flatMap((s) => (s.Principal === '*' ? ['*'] : typeof s.Principal === 'object' ? list(s.Principal.AWS) : []));
}
