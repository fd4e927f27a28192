import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaFunction } from '../../constructs/lambda-function.js';
import { lambdaEntries } from '../../lib/bundling/lambda-entries.js';
import { SharedLambdaBuild, sharedLambdaBuildCount } from '../../lib/bundling/shared-lambda-build.js';
import { cdkJsonContext } from '../../lib/cdk-json-context.js';
import { routerRanksAssets } from '../../constructs/inference-api.js';
import { O200K_RANKS_ASSET } from '../../lambdas/inference/token-count.js';
import { CL100K_RANKS_ASSET } from '../../lambdas/inference/token-decode.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { configWith, withCachedValidation } from '../support/synth.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LAMBDAS = join(ROOT, 'lambdas');
// Built functions import the AWS SDK from the runtime: run here, they find it in the project's
// node_modules only from a directory inside the project.
const OUT_PARENT = join(ROOT, '.tessera', 'test-cdk-out');
const CONFIG_DEFINE = { 'process.env.TESSERA_PLATFORM_CONFIG': JSON.stringify(JSON.stringify(configWith())) };
const REQUEST = { tenantId: 'acme', name: 'Acme', tier: 'enterprise', adminEmail: 'admin@acme.example.com', requestId: 'req-acme-0001' };

/** A stack with bundling on (no `aws:cdk:bundling-stacks`), as `npx cdk synth` builds it (its CloudFormation validation kept per template, test/support/synth.ts). */
function bundledStack(outdir: string) {
  const stack = new Stack(withCachedValidation(new App({ context: cdkJsonContext(), outdir })), 'Bundled', { env: { account: '123456789012', region: 'us-east-1' } });
  const encryptionKey = new kms.Key(stack, 'Key');
  const fn = (id: string, handlerFile: string, extra: Partial<ConstructorParameters<typeof LambdaFunction>[2]> = {}) =>
    new LambdaFunction(stack, id, { handlerFile, roleName: `test-${id}`, encryptionKey, reservedConcurrency: 1, invocation: 'by the test, directly', ...extra });
  const functions = {
    validate: fn('Validate', 'lifecycle/validate-request', { define: CONFIG_DEFINE }),
    // The same entry without the define: it must not see the other function's inlined config.
    validateBare: fn('ValidateBare', 'lifecycle/validate-request'),
    router: fn('Router', 'inference/router-handler', { define: CONFIG_DEFINE, assets: routerRanksAssets() }), // the gateway router's own list
    users: fn('Users', 'inference/router-handler', { define: CONFIG_DEFINE }),
  };
  const template = Template.fromStack(stack);
  const assetDir = (f: LambdaFunction) => {
    const id = stack.getLogicalId(f.function.node.defaultChild as never);
    const key = (template.toJSON().Resources[id].Properties.Code.S3Key as string).replace(/\.zip$/, '');
    return { hash: key, dir: join(outdir, `asset.${key}`) };
  };
  return { template, assets: Object.fromEntries(Object.entries(functions).map(([k, f]) => [k, assetDir(f)])) as Record<keyof typeof functions, { hash: string; dir: string }> };
}

/**
 * Runs `code` (an ES module body) in a fresh Node.js process in `cwd`, after the modules of `preload`
 * (`node --import`); returns its stdout (Powertools metrics print there too).
 */
function runModule(cwd: string, code: string, preload: string[] = []): string {
  return execFileSync(process.execPath, [...preload.flatMap((m) => ['--import', pathToFileURL(m).href]), '--input-type=module', '-e', code], {
    cwd, encoding: 'utf8', env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', TESSERA_PLATFORM_CONFIG: '' },
  });
}
/** The Lambda runtime's `awslambda` global (streaming handlers read it at import), set in the child before `code` runs. */
const LAMBDA_STREAMING_GLOBALS = join(ROOT, 'test', 'support', 'lambda-streaming-globals.mjs');

/** The files `index.mjs` loads at cold start: itself and the chunks it imports statically, transitively. */
function staticClosure(dir: string): Set<string> {
  const files = new Set(['index.mjs']);
  for (const f of files) for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/(?:from|import)\s*"\.\/([\w.-]+\.mjs)"/g)) files.add(m[1]);
  return files;
}

describe('the shared Lambda build', () => {
  let outParent: string;
  let first: ReturnType<typeof bundledStack>;
  let buildsForFirstApp: number;

  beforeAll(() => {
    mkdirSync(OUT_PARENT, { recursive: true });
    outParent = mkdtempSync(join(OUT_PARENT, 'run-'));
    const before = sharedLambdaBuildCount();
    first = bundledStack(join(outParent, 'first'));
    buildsForFirstApp = sharedLambdaBuildCount() - before;
  });
  afterAll(() => rmSync(outParent, { recursive: true, force: true }));

  it('runs esbuild once per set of build options, not once per function', () => {
    // Four functions, two defines (the config, and none): two builds. Counted from this file's first
    // app: the builds are kept per process, and no other file that may share this worker bundles
    // (every other test app skips bundling: test/support/synth.ts newApp).
    expect(buildsForFirstApp).toBe(2);
  });

  it('finds every handler the platform deploys among the entry points it builds (so a synth needs no second build)', () => {
    const entries = lambdaEntries(LAMBDAS);
    // A LambdaFunction's role is described as `Tessera <handler file>`.
    const roles = Object.values(defaultAppTemplates().platform.findResources('AWS::IAM::Role')) as Array<{ Properties: { Description?: string; AssumeRolePolicyDocument: unknown } }>;
    const deployed = roles.filter((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com') && r.Properties.Description?.startsWith('Tessera '))
      .map((r) => r.Properties.Description!.slice('Tessera '.length));
    expect(deployed.length).toBeGreaterThan(30);
    expect(entries).toEqual(expect.arrayContaining([...new Set(deployed)]));
    expect(entries.every((e) => existsSync(join(LAMBDAS, `${e}.ts`)))).toBe(true);
    expect(entries.some((e) => e.startsWith('shared/'))).toBe(false);
  }, 240_000); // the default app's templates: a synth (a child process) when no run has cached them yet

  it('gives each function an asset of its own: its entry as index.mjs, the chunks it loads, its extra files', () => {
    const { validate, validateBare, router, users } = first.assets;
    expect(new Set([validate.hash, validateBare.hash, router.hash, users.hash]).size).toBe(4);
    for (const { dir } of Object.values(first.assets)) {
      expect(readdirSync(dir)).toEqual(expect.arrayContaining(['index.mjs', 'index.mjs.map']));
      // Every chunk the entry names is there.
      for (const f of staticClosure(dir)) expect(existsSync(join(dir, f))).toBe(true);
    }
    expect(readdirSync(router.dir)).toEqual(expect.arrayContaining([O200K_RANKS_ASSET, CL100K_RANKS_ASSET]));
    for (const { from, name } of routerRanksAssets()) expect(readFileSync(join(router.dir, name)).equals(readFileSync(from)), name).toBe(true);
    expect(readdirSync(users.dir)).not.toContain(O200K_RANKS_ASSET);
    expect(readdirSync(users.dir)).not.toContain(CL100K_RANKS_ASSET);
    // The validator's asset holds nothing of the router's.
    expect(readdirSync(validate.dir).length).toBeLessThan(readdirSync(router.dir).length);
    first.template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Runtime: 'nodejs24.x', Architectures: ['arm64'] });
  });

  it('inlines a define only into the functions that ask for it', () => {
    const configJson = JSON.parse(CONFIG_DEFINE['process.env.TESSERA_PLATFORM_CONFIG']) as string;
    const holds = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.mjs')).some((f) => readFileSync(join(dir, f), 'utf8').includes(configJson.slice(0, 60)));
    expect(holds(first.assets.validate.dir)).toBe(true);
    expect(holds(first.assets.validateBare.dir)).toBe(false);
  });

  it('builds functions that run: the handler resolves the tier from its inlined config, through the shared chunks', () => {
    const call = (dir: string) => runModule(dir, `const { handler } = await import('./index.mjs');
      let result; try { result = await handler({ request: ${JSON.stringify(REQUEST)} }, {}); } catch (e) { result = { error: e.message }; }
      console.log('RESULT ' + JSON.stringify(result));`).split('\n').find((line) => line.startsWith('RESULT '))!.slice('RESULT '.length);
    expect(JSON.parse(call(first.assets.validate.dir))).toEqual({ ...REQUEST, isolation: 'account', computeMode: 'dedicated' });
    expect(JSON.parse(call(first.assets.validateBare.dir))).toEqual({ error: 'environment variable TESSERA_PLATFORM_CONFIG is not set' });
  });

  it('keeps the router\'s providers in chunks loaded on first use, not at cold start', () => {
    const { dir } = first.assets.router;
    const eager = staticClosure(dir);
    const all = readdirSync(dir).filter((f) => f.endsWith('.mjs') && f !== O200K_RANKS_ASSET && f !== CL100K_RANKS_ASSET);
    expect(all.filter((f) => !eager.has(f)).length).toBeGreaterThan(0);
    const loaded = runModule(dir, `const m = await import('./index.mjs'); console.log(typeof m.handler);`, [LAMBDA_STREAMING_GLOBALS]);
    expect(loaded.trim()).toBe('function');
  });

  it('gives an unchanged function the same asset hash in the next synth, and in a fresh build', () => {
    // The next App of this process reuses the build; a fresh build of the same sources writes the same files.
    const again = bundledStack(join(outParent, 'second'));
    expect(again.assets).toEqual(Object.fromEntries(Object.entries(first.assets).map(([k, v]) => [k, { ...v, dir: join(outParent, 'second', `asset.${v.hash}`) }])));
    const fresh = new SharedLambdaBuild(LAMBDAS, ['lifecycle/validate-request', 'inference/router-handler', ...lambdaEntries(LAMBDAS)], {
      define: CONFIG_DEFINE, logLevel: 'warning', external: ['@aws-sdk/*', '@smithy/*'],
    });
    const target = join(outParent, 'fresh');
    mkdirSync(target);
    fresh.writeFunction('lifecycle/validate-request', target);
    const files = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    expect(files(target)).toEqual(files(first.assets.validate.dir));
  });
});
