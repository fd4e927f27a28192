import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storePassedTypecheck, typecheckInputKey, typecheckPassedBefore } from '../../support/typecheck-cache.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * A checkout with a tsconfig including src/, one project module, one package's declarations under
 * node_modules, and the build info tsc would have written after reading them.
 */
function checkout() {
  const root = tempDir('tessera-typecheck-cache-');
  const cache = join(root, 'node_modules', '.cache', 'tessera-tsc');
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('tsconfig.json', JSON.stringify({ compilerOptions: { strict: true }, include: ['src'] }));
  write('src/a.ts', 'export const a = 1;\n');
  write('src/notes.md', 'not a module\n');
  write('node_modules/pkg/index.d.ts', 'export declare const b: number;\n');
  write('node_modules/pkg/package.json', '{"name":"pkg","types":"index.d.ts"}');
  write('node_modules/typescript/package.json', '{"version":"7.0.2"}');
  write('node_modules/.package-lock.json', '{"packages":{}}');
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(cache, 'tsconfig.tsbuildinfo'), JSON.stringify({
    fileNames: ['lib.es2023.d.ts', '../../pkg/index.d.ts', '../../../src/a.ts'],
    packageJsons: ['../../pkg/package.json'],
    missingPackageJsons: ['../../../src/package.json'],
  }));
  const key = () => typecheckInputKey(root, cache, ['--noEmit'])!.key;
  return { root, cache, write, key };
}

describe('the type-check result cache (npm test: tsc is not run when nothing it read changed)', () => {
  it('has no key without a build info: the first check runs', () => {
    const root = tempDir('tessera-typecheck-cache-');
    writeFileSync(join(root, 'tsconfig.json'), '{"include":["src"]}');
    expect(typecheckInputKey(root, join(root, 'cache'), [])).toBeUndefined();
  });

  it('has no key for a tsconfig it cannot read whole (comments, extends, references, no include): tsc runs', () => {
    for (const text of ['{ // comment\n "include": ["src"] }', '{"extends":"./base.json","include":["src"]}', '{"references":[{"path":"a"}],"include":["src"]}', '{"compilerOptions":{}}']) {
      const c = checkout();
      c.write('tsconfig.json', text);
      expect(typecheckInputKey(c.root, c.cache, []), text).toBeUndefined();
    }
  });

  it('keeps its key while nothing changes, and changes it for each input', () => {
    const c = checkout();
    const first = c.key();
    expect(c.key()).toBe(first);
    // a file that is no TypeScript source, under an included directory: not an input
    c.write('src/notes.md', 'edited\n');
    expect(c.key()).toBe(first);
    const changes: Array<[string, () => void]> = [
      ['a project module edited (same size)', () => c.write('src/a.ts', 'export const a = 2;\n')],
      ['a new module under an included directory', () => c.write('src/b.ts', 'export const b = 1;\n')],
      ['a declaration file under node_modules touched', () => utimesSync(join(c.root, 'node_modules/pkg/index.d.ts'), new Date(), new Date(Date.now() + 5_000))],
      ['a package.json that module resolution read', () => c.write('node_modules/pkg/package.json', '{"name":"pkg","types":"other.d.ts"}')],
      ['a package.json it looked for and did not find, now there', () => c.write('src/package.json', '{"type":"module"}')],
      ['an install (node_modules/.package-lock.json)', () => c.write('node_modules/.package-lock.json', '{"packages":{"x":{}}}')],
      ['another TypeScript', () => c.write('node_modules/typescript/package.json', '{"version":"7.0.3"}')],
      ['tsconfig.json', () => c.write('tsconfig.json', JSON.stringify({ compilerOptions: { strict: false }, include: ['src'] }))],
    ];
    const seen = new Set([first]);
    for (const [what, change] of changes) {
      change();
      const key = c.key();
      expect(seen.has(key), what).toBe(false);
      seen.add(key);
    }
    expect(typecheckInputKey(c.root, c.cache, ['--noEmit', '--strict'])!.key).not.toBe(c.key());
  });

  it('records a pass only when no input was modified after tsc started, and answers for that key only', () => {
    const c = checkout();
    const inputs = typecheckInputKey(c.root, c.cache, ['--noEmit'])!;
    // an input written after the check started: what tsc read may not be what the key holds
    expect(storePassedTypecheck(c.cache, inputs, inputs.newestMtimeMs)).toBe(false);
    expect(typecheckPassedBefore(c.cache, inputs.key)).toBeUndefined();
    expect(storePassedTypecheck(c.cache, inputs, inputs.newestMtimeMs + 1)).toBe(true);
    expect(typecheckPassedBefore(c.cache, inputs.key)).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    c.write('src/a.ts', 'export const a: string = 1;\n');
    expect(typecheckPassedBefore(c.cache, c.key())).toBeUndefined();
    expect(storePassedTypecheck(c.cache, undefined, Date.now())).toBe(false);
  });
});
