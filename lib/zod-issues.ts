import type { z } from 'zod';
import { printable } from './printable.js';

/** The longest key a path or message shows whole: a longer one (a caller's made-up key) is cut, so an error never echoes megabytes. */
const MAX_KEY_SHOWN = 64;

/**
 * `key` as errors show it: itself up to 64 characters, else its first 61 and `...`; its control characters shown escaped
 * (lib/printable.ts: `\u001b`), so a caller's made-up key cannot move a terminal's cursor or retitle its window when a
 * message quoting it is printed.
 */
export const shownKey = (key: string): string => printable(key.length <= MAX_KEY_SHOWN ? key : `${key.slice(0, MAX_KEY_SHOWN - 3)}...`);

/**
 * `JSON.stringify(value)`, or `[…] (nested too deep to show)` for a value nested deeper than it can write: V8's
 * JSON.stringify recurses, and a request body of 50,000 nested lists (JSON.parse takes it) ended the stack, a RangeError
 * that the admin API answered 500 `internal_error` where a 400 naming the body was due.
 */
export function jsonOf(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch (e) {
    if (e instanceof RangeError) return `${Array.isArray(value) ? '[…]' : '{…}'} (nested too deep to show)`;
    throw e;
  }
}

/** `a.b[0].c` from a zod issue path (each key as `shownKey` shows it). */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${shownKey(String(key))}` : shownKey(String(key))), '');
}

/**
 * `a.b[0].c` from a zod issue path, each key whole: an error's `param`, which names the field a caller sent
 * as it is (formatPath, for messages, cuts a key over 64 characters). A request's size bounds its keys.
 */
export function paramPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/** The value at `path` of `raw`, or undefined when the path leads nowhere. */
export function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

type Issue = z.core.$ZodIssue;

/**
 * The issues as a reader needs them, with absolute paths. A union that no branch matched
 * (`invalid_union` with branch errors: content that is a string or a list of parts, an input that
 * is a string or a list of strings or of token ids) stands for the issues of the branch that
 * accepted the value's kind and failed inside it: for `[{type:'image_url', image_url:{detail:'ultra'}}]`
 * the list branch's `[0].image_url.detail`, not zod's bare "Invalid input". Branches that refused
 * the kind itself (a type error at the union's own path) are left out; of the others the one with
 * the fewest issues counts; when two tie, or none is left, one issue at the union's path says what
 * was expected ("expected string or array", or each tied branch's first issue; when none is left, the kinds expected are
 * also its `expectedKinds`: `['string', 'array']`).
 */
export function leafIssues(error: z.ZodError): Issue[] {
  return error.issues.flatMap((issue) => resolve(issue, []));
}

function resolve(issue: Issue, base: readonly PropertyKey[]): Issue[] {
  const path = [...base, ...issue.path];
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return [{ ...issue, path } as Issue];
  const branches = issue.errors.map((branch) => branch.flatMap((i) => resolve(i, path)));
  const refusesKind = (branch: Issue[]) => branch.some((i) => i.code === 'invalid_type' && i.path.length === path.length);
  const kept = branches.filter((b) => !refusesKind(b));
  if (!kept.length) {
    const expected = [...new Set(branches.flat().flatMap((i) => (i.code === 'invalid_type' ? [String(i.expected)] : [])))];
    // `expectedKinds`: the kinds the union takes (zod's type names), for a caller that words the issue itself (the gateway's OpenAI words).
    return [{ ...issue, path, message: expected.length ? `Invalid input: expected ${expected.join(' or ')}` : issue.message, ...(expected.length ? { expectedKinds: expected } : {}) } as Issue];
  }
  const fewest = Math.min(...kept.map((b) => b.length));
  const best = kept.filter((b) => b.length === fewest);
  // Branches that fail alike (three list shapes all too short) are one answer.
  const each = [...new Set(best.map((b) => `${formatPath(b[0].path)}: ${b[0].message}`))];
  if (best.length === 1 || each.length === 1) return best[0];
  return [{ ...issue, path, message: `Invalid input: no accepted shape matches (${each.join('; or ')})` } as Issue];
}

/**
 * One line per issue (unions resolved: `leafIssues`): `path = <value given>: <what is wrong>`. A value's JSON over 120
 * characters is cut, followed by its length: `input = ["a","a",... (3000 items)`, `(N characters)` for a text.
 * @param written how the value of an issue was written, when the caller knows better than its JSON (a YAML file's
 *   `0123` where text was wanted, which YAML read as 123: strict-yaml-file.ts writtenAs); undefined keeps the JSON
 */
export function describeIssues(error: z.ZodError, raw: unknown, written?: (issue: Issue, value: unknown) => string | undefined): string[] {
  return leafIssues(error).map((found) => {
    // One unknown key whose message a parse's error map wrote (lib/request-issues.ts: `is not a field of …`) is shown at
    // its own path with its own value (`colour = "red": …`), not as the object around it (`(root) = {"tenantId":…`).
    const issue = found.code === 'unrecognized_keys' && found.keys.length === 1 && !found.message.startsWith('Unrecognized key')
      ? { ...found, path: [...found.path, found.keys[0]!] } : found;
    const value = valueAt(raw, issue.path);
    const shown = (value === undefined ? undefined : written?.(issue, value)) ?? (value === undefined ? '(missing)' : jsonOf(value));
    const message = issue.code === 'unrecognized_keys' && issue.message.startsWith('Unrecognized key') ? `Unrecognized key${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.slice(0, 5).map((k) => `"${shownKey(k)}"`).join(', ')}${issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : ''}`
      // A record's key its key schema refused: zod's own message is a bare "Invalid key in record"; the key schema's says why.
      : issue.code === 'invalid_key' && issue.issues.length ? `Invalid key "${shownKey(String(issue.path.at(-1)))}": ${issue.issues[0].message}`
        : issue.message;
    // A value cut to 120 characters says how long it was: a list's items, a text's characters (what a size rule counts).
    const size = Array.isArray(value) ? ` (${value.length} items)` : typeof value === 'string' ? ` (${value.length} characters)` : '';
    return `${formatPath(issue.path) || '(root)'} = ${shown.length > 120 ? `${shown.slice(0, 117)}...${size}` : shown}: ${message.length > 300 ? `${message.slice(0, 297)}...` : message}`;
  });
}
