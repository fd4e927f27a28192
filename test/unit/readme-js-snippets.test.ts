// The documentation's Node examples (README.md and docs/*.md) are ES modules with top-level `await`. Saved as `app.js` in a project made by
// `npm init -y` (npm 11 writes "type": "commonjs") they fail with `SyntaxError: Cannot use import statement
// outside a module`: each block's first line names the `.mjs` file to save it as, and each, saved so in such
// a project, parses (`node --check`: syntax only, nothing runs, no package resolved).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { documentationFiles } from '../support/markdown-links.js';
import { tempDir } from '../support/temp-dirs.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The ```js blocks that import something, with the file and line each starts on. */
const modules = documentationFiles(ROOT).flatMap((file) => {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/^```js\n([\s\S]*?)^```$/gm)]
    .filter((m) => /^import .+ from '/m.test(m[1]!))
    .map((m) => ({ code: m[1]!, line: `${file}:${text.slice(0, m.index).split('\n').length + 1}` }));
});

describe('Node examples of README.md and docs/*.md (```js blocks with imports)', () => {
  it('are there (the first-call, AI SDK, embeddings and moderations examples)', () => {
    expect(modules.length).toBeGreaterThanOrEqual(4);
  });

  it('each names the .mjs file to save it as on its first line, and parses as that file in a "type": "commonjs" project', () => {
    const dir = tempDir('tessera-test-readme-js-');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'commonjs' }));
    const problems: string[] = [];
    for (const { code, line } of modules) {
      const name = /^\/\/ ([\w-]+\.mjs)\n/.exec(code)?.[1];
      if (!name) {
        problems.push(`${line}: the first line is not "// <name>.mjs": ${code.split('\n')[0]}`);
        continue;
      }
      writeFileSync(join(dir, name), code);
      const check = spawnSync(process.execPath, ['--check', name], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      if (check.status !== 0) problems.push(`${line} (${name}): ${check.stderr.trim().split('\n').find((l) => /Error/.test(l))}`);
    }
    expect(problems).toEqual([]);
  });
});
