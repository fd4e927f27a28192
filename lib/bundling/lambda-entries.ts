import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * A module that exports `handler` in any of the forms the Lambdas use: `export const handler =`,
 * `export async function handler(`, `export function handler(` or `export { x as handler }`.
 */
const EXPORTS_HANDLER = /^export\s+(?:(?:const|let|var)\s+handler\b|(?:async\s+)?function\s*\*?\s*handler\b)|^export\s*\{[^}]*\b(?:as\s+handler|handler)\s*(?:,[^}]*)?\}/m;

/**
 * The Lambda entry points under `lambdasDir`: every `.ts` module (tests and declaration files
 * excepted) that exports `handler`, as handler files relative to `lambdasDir` without extension
 * (`lifecycle/create-account`), sorted.
 *
 * The shared build (lib/bundling/shared-lambda-build.ts) bundles all of them at once, so that the
 * first function of a synth already gets a build that holds every other function's entry too. A
 * module that exports `handler` but is deployed by no function costs a little build time and
 * nothing else (its files are copied into no asset).
 * @param lambdasDir absolute path of the `lambdas/` directory
 */
export function lambdaEntries(lambdasDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !/\.(test|d)\.ts$/.test(entry.name) && EXPORTS_HANDLER.test(readFileSync(path, 'utf8'))) {
        found.push(relative(lambdasDir, path).slice(0, -'.ts'.length).split(sep).join('/'));
      }
    }
  };
  walk(lambdasDir);
  return found.sort();
}
