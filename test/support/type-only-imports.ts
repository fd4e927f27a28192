/**
 * Imports and re-exports of types only: `import type { X } from '…'`, `export type { X } from
 * '…'`, `import type X from …`, `import type * as X from …` (one statement, `{…}` across lines too).
 * TypeScript erases them, so they load no module. Used by the shared-worker classifier
 * (shared-worker-files.ts) and the synth's import graph (default-app.ts).
 *
 * Anchored at a line's start and bounded to the statement's own clause, so neither a type alias
 * (`export type Mode = 'a' | 'b'` without a semicolon) nor a comment's words ("the tests import type
 * definitions") can reach the `from '…'` of the import that follows. `import type from '…'` is
 * a default import named `type`: not matched. (No module path is written
 * out here: this file is in the synth's import graph, whose reader would take it for an import.)
 */
export const TYPE_ONLY_IMPORT = /^[ \t]*(?:import|export)[ \t]+type\b[ \t]*(?:\{[^}]*\}|\*[ \t]*as[ \t]+[\w$]+|[\w$]+)\s*from\s*['"][^'"]+['"]/gm;

/** `source` without its type-only imports and re-exports. */
export function withoutTypeOnlyImports(source: string): string {
  return source.replace(TYPE_ONLY_IMPORT, '');
}
