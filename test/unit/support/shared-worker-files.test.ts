import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROCESS_STATE_PATTERNS, REVIEWED_HELPERS, resetWorkerFiles, sharedWorkerFiles, sourceKind } from '../../support/shared-worker-files.js';
import { tempDir } from '../../support/temp-dirs.js';

const touches = (source: string) => PROCESS_STATE_PATTERNS.some((p) => p.test(source));

describe('the shared-worker classifier (vitest.config.ts projects "shared", "shared-reset", "isolated")', () => {
  it('sees process-wide writes however they are spelled', () => {
    for (const source of [
      `vi.mock('../x.js')`, `mockClient(S3Client)`, `process.env.AWS_REGION = 'us-east-1'`, `process.env['X'] ??= 'y'`,
      `process.env = { ...saved }`, `delete process.env.X`, `Object.assign(process.env, env)`, `process.on('exit', f)`,
      `process.addListener('exit', f)`, `globalThis.fetch = f`, `(globalThis as Record<string, unknown>).awslambda = { streamifyResponse }`,
      `(global as any)['x'] = 1`, `globalThis['awslambda'] = a`, `Date.prototype.toISOString = f`, `setGlobalDispatcher(agent)`,
      `// tessera:own-process: asserts a lazily loaded module is not loaded yet`,
    ]) expect(touches(source), source).toBe(true);
  });

  it('leaves reads and comparisons alone', () => {
    for (const source of [`const r = process.env.AWS_REGION`, `if (globalThis.fetch === f) {}`, `expect(process.env.X).toBe('y')`, `const p = Date.prototype`])
      expect(touches(source), source).toBe(false);
  });

  it('sends what test/support/file-state.ts puts back to shared-reset, and the rest to a process of its own', () => {
    // Put back after each file: process.env, aws-sdk-client-mock stubs, spies, env/global stubs, fake timers.
    for (const source of [
      `mockClient(S3Client)`, `process.env.AWS_REGION = 'us-east-1'`, `process.env['X'] ??= 'y'`, `delete process.env.X`,
      `Object.assign(process.env, env)`, `vi.spyOn(console, 'log')`, `vi.stubEnv('X', 'y')`, `vi.stubGlobal('fetch', f)`, `vi.useFakeTimers()`,
      // module mocks (vitest drops them after the file; file-state.ts re-imports project code), the exit code (set back by the after-file check)
      `vi.mock('../x.js')`, `vi.doMock('../x.js')`, `const m = vi.hoisted(() => ({}))`, `mockClient(S3Client); vi.mock('../x.js')`, `process.exitCode = 2`,
    ]) expect(sourceKind(source), source).toBe('reset');
    // Not put back: a module registry reset mid-file, listeners, globals, patched prototypes, the HTTP agent, the marker.
    for (const source of [
      `vi.resetModules()`, `process.env = { ...saved }`, `process.on('exit', f)`, `process.chdir('/tmp')`,
      `globalThis.fetch = f`, `Date.prototype.toISOString = f`, `setGlobalDispatcher(agent)`, `vi.mock('../x.js'); globalThis.fetch = f`,
      `// tessera:own-process`,
    ]) expect(sourceKind(source), source).toBe('own');
    expect(sourceKind(`const r = process.env.AWS_REGION`)).toBe('shared');
  });

  it('runs the files with module or process state in their own process', () => {
    const shared = sharedWorkerFiles(process.cwd(), 'test/unit');
    const reset = resetWorkerFiles(process.cwd(), 'test/unit');
    expect(shared.length).toBeGreaterThan(50);
    expect(reset.length).toBeGreaterThan(20);
    expect(shared.filter((f) => reset.includes(f))).toEqual([]);
    // mocks clients with aws-sdk-client-mock; its helper test/unit/lifecycle/support.ts sets process.env at import
    expect(reset).toContain('test/unit/statements/monthly-statements-recovery.test.ts');
    // vi.mocks the registry (with vi.hoisted); sets process.exitCode back in its afterEach
    expect(reset).toContain('test/unit/lifecycle/lease.test.ts');
    expect(reset).toContain('test/unit/cli/failover-plan.test.ts');
    // stub globalThis.awslambda with vi.stubGlobal (put back after the file), one with a module mock too;
    // put process.env back in place (test/support/process-env.ts) where they had replaced it
    for (const file of ['test/unit/inference/router-handler.test.ts', 'test/unit/inference/router-preflight.test.ts', 'test/unit/cli/serve-provider-routes.test.ts', 'test/unit/lifecycle/drift-handlers.test.ts']) {
      expect(reset).toContain(file);
    }
    // sets globalThis.fetch and a process listener; asserts the tokenizer is not loaded yet; and
    // handlers.test.ts says tessera:own-process (see its first lines)
    for (const own of ['test/unit/support/file-state-leaks.test.ts', 'test/unit/inference/token-count.test.ts', 'test/unit/fine-tuning/handlers.test.ts']) {
      expect(shared).not.toContain(own);
      expect(reset).not.toContain(own);
    }
  });

  it('follows the helpers a file loads, not those it imports types from (TypeScript erases `import type`)', () => {
    const root = tempDir('tessera-classifier-');
    const write = (path: string, text: string) => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    write('test/support/stateful.ts', "export type Env = Record<string, string>;\nexport const setUp = () => { process.env.X = 'y'; };\n");
    write('test/support/own.ts', 'export type G = number;\nglobalThis.fetch = undefined as never;\n');
    write('test/x/types-only.test.ts', "import type { Env } from '../support/stateful.js';\nexport type { G } from '../support/own.js';\nconst e: Env = {};\n");
    write('test/x/value.test.ts', "import { setUp } from '../support/stateful.js';\nsetUp();\n");
    write('test/x/mixed.test.ts', "import { type Env, setUp } from '../support/stateful.js';\nconst e: Env = {}; setUp();\n");
    write('test/x/dynamic.test.ts', "await import('../support/own.js');\n");
    // a type alias without a semicolon, or a comment's words, before a value import do not hide it (hostile 7)
    write('test/x/alias-then-import.test.ts', "export type Mode = 'a' | 'b'\nimport { setUp } from '../support/stateful.js';\nsetUp();\n");
    write('test/x/comment-then-import.test.ts', "/**\n * The tests import type definitions below\n */\nimport { setUp } from '../support/stateful.js';\nsetUp();\n");
    write('test/x/multiline-types.test.ts', "import type {\n  Env,\n} from '../support/stateful.js';\nimport type * as O from '../support/own.js';\nconst e: Env = {};\n");
    expect(sharedWorkerFiles(root, 'test/x')).toEqual(['test/x/multiline-types.test.ts', 'test/x/types-only.test.ts']);
    expect(resetWorkerFiles(root, 'test/x')).toEqual(['test/x/alias-then-import.test.ts', 'test/x/comment-then-import.test.ts', 'test/x/mixed.test.ts', 'test/x/value.test.ts']);
    // imports types of the moto harness (template-conditions.ts -> derive-moto-blueprint.ts), and loads nothing of it
    expect(sharedWorkerFiles(process.cwd(), 'test/infra')).toContain('test/infra/tenant-failover.test.ts');
  });

  it('shares workers among integration files whose helpers keep no state past the file, and says why each reviewed helper is safe', () => {
    const integration = [...sharedWorkerFiles(process.cwd(), 'test/integration'), ...resetWorkerFiles(process.cwd(), 'test/integration')];
    // mocks Bedrock and SageMaker with aws-sdk-client-mock and sets process.env (gateway-conformance/setup.ts)
    expect(integration).toContain('test/integration/gateway-conformance/bedrock.test.ts');
    // runs the CLI in process through tessera-cli.ts, which sets process.exitCode back (put back and checked after the file)
    expect(integration).toContain('test/integration/identity-auth/dev-key-cli.test.ts');
    // A reviewed helper's entry is needed: its source alone would send its users to a process of their own.
    for (const [helper, { kind, why }] of Object.entries(REVIEWED_HELPERS)) {
      expect(sourceKind(readFileSync(`test/${helper}`, 'utf8')), helper).toBe('own');
      expect(kind, helper).not.toBe('own');
      expect(why.length, helper).toBeGreaterThan(40);
    }
    // moto-server.ts registers an exit listener per server: its users stay in processes of their own until it is reviewed.
    const motoOwn = sourceKind(readFileSync('test/integration/support/moto-server.ts', 'utf8')) === 'own' && !REVIEWED_HELPERS['integration/support/moto-server.ts'];
    expect(integration.includes('test/integration/gateway-dynamodb.test.ts')).toBe(!motoOwn);
    // through the API Gateway emulator (reviewed), which starts moto
    expect(integration.includes('test/integration/gateway-conformance/lambda-path.test.ts')).toBe(!motoOwn);
  });
});
