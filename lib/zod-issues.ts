import type { z } from 'zod';

/** `a.b[0].c` from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
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

/** One line per issue: `path = <value given>: <what is wrong>`. */
export function describeIssues(error: z.ZodError, raw: unknown): string[] {
  return error.issues.map((issue) => {
    const value = valueAt(raw, issue.path);
    const shown = value === undefined ? '(missing)' : JSON.stringify(value);
    return `${formatPath(issue.path) || '(root)'} = ${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown}: ${issue.message}`;
  });
}
