import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * The `tessera tenants apply` line `npm run local-platform` prints. It printed `-f tenants.yaml`, a file nobody had
 * (the example was only in docs/tenant-lifecycle.md): it now names examples/tenants.yaml, shipped with the checkout.
 */

/** The example tenants file of this checkout (absolute). */
export const EXAMPLE_TENANTS_FILE = fileURLToPath(new URL('../../examples/tenants.yaml', import.meta.url));

/** The tiers the example's entries name, each once, in the file's order. */
export function exampleTenantTiers(file = EXAMPLE_TENANTS_FILE): string[] {
  const { tenants } = parse(readFileSync(file, 'utf8')) as { tenants: Array<{ tier: string }> };
  return [...new Set(tenants.map((t) => t.tier))];
}

/**
 * The banner's apply line, `npx tessera tenants apply -f <file> --dry-run` with a comment: the example as a path from
 * `cwd` (where npm runs the script: the project root, so `examples/tenants.yaml`; the absolute path when it lies
 * outside `cwd`), and, when `tiers` lack one the example names, which one, so that the user edits a copy first.
 * @param tiers the local platform's tiers (its config's)
 * @param cwd @default process.cwd()
 * @returns the line without its indent; a path with other characters than `[\w./-]` single-quoted for a POSIX shell
 */
export function exampleApplyLine(tiers: readonly string[], cwd = process.cwd(), file = EXAMPLE_TENANTS_FILE): string {
  const fromCwd = relative(cwd, file);
  const path = fromCwd.startsWith('..') || isAbsolute(fromCwd) ? file : fromCwd;
  const word = /^[\w./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
  const missing = exampleTenantTiers(file).filter((t) => !tiers.includes(t));
  const note = missing.length
    ? `# an example of this checkout; its tier${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not this platform's: edit a copy first`
    : '# an example of this checkout: copy it to write your own';
  return `npx tessera tenants apply -f ${word} --dry-run   ${note}`;
}
