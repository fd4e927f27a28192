import { build } from 'esbuild';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The project files and packages `entry` (a path relative to the project root) reaches through static `import`
 * statements alone, itself included: what loading it loads, whatever it then imports with `import()`. Read from
 * esbuild's metafile (packages not followed, named as imported: `@aws-sdk/client-ec2`; type-only imports erased, as
 * TypeScript erases them).
 * @throws Error when esbuild cannot bundle `entry`
 */
export async function staticImportGraph(entry: string): Promise<Set<string>> {
  const { metafile } = await build({ entryPoints: [entry], absWorkingDir: ROOT, bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, outdir: 'out', splitting: true, packages: 'external', logLevel: 'silent' });
  const reached = new Set([entry]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const imp of metafile.inputs[file]?.imports ?? []) {
      if (imp.kind === 'import-statement' && !reached.has(imp.path)) {
        reached.add(imp.path);
        queue.push(imp.path);
      }
    }
  }
  return reached;
}

/** The packages of `graph` (staticImportGraph) named `name` or a subpath of it. */
export const packagesIn = (graph: ReadonlySet<string>, name: string): string[] => [...graph].filter((path) => path === name || path.startsWith(`${name}/`));
