import { App, FileSystem, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sharedBuildCode } from '../../lib/bundling/shared-build-code.js';
import { SharedLambdaBuild, type SharedLambdaBuildOptions } from '../../lib/bundling/shared-lambda-build.js';
import { tempDir } from '../support/temp-dirs.js';

// tessera:own-process: each SharedLambdaBuild's directory is removed by a process 'exit' listener.
const OPTIONS: SharedLambdaBuildOptions = { define: {}, logLevel: 'silent', external: [] };

/** A project of two functions, `fn/hello` and `fn/bye`, sharing `lib/greet.ts` (a shared chunk), and a data file `data/words.txt`. */
function project(): string {
  const root = tempDir('lambda-asset-hash-');
  mkdirSync(join(root, 'lambdas', 'fn'), { recursive: true });
  mkdirSync(join(root, 'lambdas', 'lib'), { recursive: true });
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(join(root, 'lambdas', 'fn', 'hello.ts'), "import { greet } from '../lib/greet';\nexport const handler = async () => greet('hello');\n");
  writeFileSync(join(root, 'lambdas', 'fn', 'bye.ts'), "import { greet } from '../lib/greet';\nexport const handler = async () => greet('bye');\n");
  writeFileSync(join(root, 'lambdas', 'lib', 'greet.ts'), "export const greet = (word: string) => `${word} from greet`;\n");
  writeFileSync(join(root, 'data', 'words.txt'), 'one\n');
  return root;
}

/** sha256 over a written directory, independently of the build: every file's name and the sha256 of its bytes, in name order. */
function directoryDigest(dir: string): string {
  const hash = createHash('sha256').update('tessera-lambda-asset-v1\0');
  for (const name of readdirSync(dir).sort()) hash.update(`${name}\0${createHash('sha256').update(readFileSync(join(dir, name))).digest('hex')}\0`);
  return hash.digest('hex');
}

/** Synthesizes one function of `root` in an App that bundles (as `npx cdk synth` does); returns its asset hash and directory. */
function synthesize(root: string, handlerFile: string, extraFiles: Array<{ from: string; name: string }> = []): { hash: string; dir: string } {
  const outdir = join(tempDir('lambda-asset-hash-out-'), 'cdk.out');
  const stack = new Stack(new App({ outdir }), 'Bundled');
  const fn = new lambda.Function(stack, 'Fn', {
    code: sharedBuildCode(stack, { lambdasDir: join(root, 'lambdas'), handlerFile, logLevel: 'silent', extraFiles }),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_24_X,
  });
  const key = stack.resolve((fn.node.defaultChild as lambda.CfnFunction).code) as { s3Key: string };
  const hash = key.s3Key.replace(/\.zip$/, '');
  return { hash, dir: join(outdir, `asset.${hash}`) };
}

describe('the asset hash of a function from the shared build', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is the digest of exactly the files written for the function (entry, shared chunks, source maps, extra files)', () => {
    const root = project();
    const build = new SharedLambdaBuild(join(root, 'lambdas'), ['fn/hello', 'fn/bye'], OPTIONS);
    const extra = [{ from: join(root, 'data', 'words.txt'), name: 'words.txt' }];
    const target = tempDir('lambda-asset-hash-fn-');
    build.writeFunction('fn/hello', target, extra);
    expect(readdirSync(target)).toEqual(expect.arrayContaining(['index.mjs', 'index.mjs.map', 'words.txt']));
    expect(readdirSync(target).some((f) => /^chunk-.*\.mjs$/.test(f))).toBe(true);
    expect(build.functionDigest('fn/hello', extra)).toBe(directoryDigest(target));
  });

  it('stays the same for the same inputs, and changes when one input of the function changes', () => {
    const root = project();
    const extra = [{ from: join(root, 'data', 'words.txt'), name: 'words.txt' }];
    const first = new SharedLambdaBuild(join(root, 'lambdas'), ['fn/hello', 'fn/bye'], OPTIONS);
    const again = new SharedLambdaBuild(join(root, 'lambdas'), ['fn/hello', 'fn/bye'], OPTIONS);
    expect(again.functionDigest('fn/hello', extra)).toBe(first.functionDigest('fn/hello', extra));
    // The shared module both functions load: both hashes change.
    writeFileSync(join(root, 'lambdas', 'lib', 'greet.ts'), "export const greet = (word: string) => `${word}, changed`;\n");
    const changed = new SharedLambdaBuild(join(root, 'lambdas'), ['fn/hello', 'fn/bye'], OPTIONS);
    expect(changed.functionDigest('fn/hello', extra)).not.toBe(first.functionDigest('fn/hello', extra));
    expect(changed.functionDigest('fn/bye')).not.toBe(first.functionDigest('fn/bye'));
    // An extra file's bytes, and its name in the asset.
    const before = changed.functionDigest('fn/hello', extra);
    writeFileSync(join(root, 'data', 'words.txt'), 'two\n');
    expect(changed.functionDigest('fn/hello', extra)).not.toBe(before);
    writeFileSync(join(root, 'data', 'words.txt'), 'one\n');
    expect(changed.functionDigest('fn/hello', extra)).toBe(before);
    expect(changed.functionDigest('fn/hello', [{ ...extra[0], name: 'other.txt' }])).not.toBe(before);
  });

  it('names the asset in the template, follows its extra files from one synth to the next, and is not read back from the directory', () => {
    const root = project();
    const words = join(root, 'data', 'words.txt');
    const fingerprint = vi.spyOn(FileSystem, 'fingerprint');
    const first = synthesize(root, 'fn/hello', [{ from: words, name: 'words.txt' }]);
    expect(readFileSync(join(first.dir, 'words.txt'), 'utf8')).toBe('one\n');
    expect(readdirSync(first.dir)).toEqual(expect.arrayContaining(['index.mjs', 'index.mjs.map']));
    // CDK took the hash given (AssetHashType.CUSTOM) and did not fingerprint the written directory (AssetHashType.OUTPUT did).
    expect(fingerprint).not.toHaveBeenCalled();
    expect(synthesize(root, 'fn/hello', [{ from: words, name: 'words.txt' }]).hash).toBe(first.hash);
    writeFileSync(words, 'two\n');
    const changed = synthesize(root, 'fn/hello', [{ from: words, name: 'words.txt' }]);
    expect(changed.hash).not.toBe(first.hash);
    expect(readFileSync(join(changed.dir, 'words.txt'), 'utf8')).toBe('two\n');
    expect(synthesize(root, 'fn/bye').hash).not.toBe(synthesize(root, 'fn/hello').hash);
  });
});
