import { describe, expect, it } from 'vitest';
import { PROCESS_STATE_PATTERNS, sharedWorkerFiles } from '../../support/shared-worker-files.js';

const touches = (source: string) => PROCESS_STATE_PATTERNS.some((p) => p.test(source));

describe('the shared-worker classifier (vitest.config.ts project "shared")', () => {
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

  it('runs the files with module or process state in their own process', () => {
    const shared = sharedWorkerFiles(process.cwd(), 'test/unit');
    expect(shared.length).toBeGreaterThan(50);
    // installs globalThis.awslambda through a cast; asserts the tokenizer is not loaded yet
    expect(shared).not.toContain('test/unit/inference/router-handler.test.ts');
    expect(shared).not.toContain('test/unit/inference/token-count.test.ts');
  });
});
