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

/**
 * The statements of a policy document: its `Statement` list, or a lone statement object as a list of one (IAM's grammar
 * takes both, "IAM JSON policy elements: Statement"). A missing document, a missing `Statement`, or a `Statement` that is
 * neither a list nor an object (a string, a number: malformed) gives none. The elements of a list are returned as they are.
 * @param document a parsed policy document (parsePolicyDocument), or anything
 */
export function statementsOf<S = Record<string, unknown>>(document: unknown): S[] {
  const s = (document as { Statement?: unknown } | null | undefined)?.Statement;
  return (Array.isArray(s) ? s : s && typeof s === 'object' ? [s] : []) as S[];
}
