/** IAM policy documents as IAM's Get* calls answer them (GetRole's `AssumeRolePolicyDocument`: URL-encoded JSON). */

/** A policy document's text: URL-decoded when it is URL-encoded (IAM's answers), else as it came. */
export function decodedPolicyDocument(document: string): string {
  try {
    return decodeURIComponent(document);
  } catch {
    return document;
  }
}

/**
 * Parses a policy document as IAM's GetRole returns it (URL-encoded) or plain JSON.
 * @returns undefined when there is none or it is not JSON either way
 */
export function parsePolicyDocument<T = { Statement?: unknown }>(document: string | undefined): T | undefined {
  if (!document) return undefined;
  for (const text of [document, decodedPolicyDocument(document)]) {
    try {
      return JSON.parse(text) as T;
    } catch {
      // try the decoded form
    }
  }
  return undefined;
}
