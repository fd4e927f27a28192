import { afterEach, describe, expect, it, vi } from 'vitest';
import { appInputKey, cacheKey, moduleGraphKey, synthModules } from '../../support/default-app.js';

// The app snapshots' key (test/support/default-app.ts) is the synth's import graph, not every
// source file: an edit to a module the synth never loads keeps the snapshots. These check that the
// graph is followed (no computed load or unresolved path made the key fall back to every file) and
// that it holds what the synth loads and not what it does not.
describe('the app snapshots\' key', () => {
  it('is the synth\'s import graph (no fallback to every file)', () => {
    expect(synthModules(), 'a module of the graph loads a computed path (see REVIEWED_COMPUTED_LOADS) or imports a path that names no file').toBeDefined();
    expect(appInputKey()).toMatch(/^g[0-9a-f]{31}$/);
  });

  it('holds the app, its constructs and the helpers that build it, through dynamic imports too, and no CLI or lifecycle handler', () => {
    const modules = synthModules()!;
    for (const m of ['lib/tessera-app.ts', 'lib/platform-stack.ts', 'constructs/network.ts', 'constructs/inference-api.ts', 'lib/config/schema.ts',
      'lambdas/inference/gateway-env.ts', 'lambdas/inference/token-count.ts', 'test/support/synth.ts', 'test/support/app-snapshot.ts', 'test/support/config-with.ts']) {
      expect(modules, m).toContain(m);
    }
    for (const m of ['lib/cli/program.ts', 'lambdas/lifecycle/quota-check.ts', 'lambdas/inference/gateway.ts', 'lib/preflight/run.ts', 'test/support/cli-bundle.ts']) {
      expect(modules, m).not.toContain(m);
    }
  });

  it('keys the preflight\'s cached blueprints on the loader\'s graph: the loader, the app and the cache module, no preflight check', () => {
    const entries = ['test/preflight/support/cached-blueprints.ts', 'lib/preflight/blueprints.ts'];
    expect(moduleGraphKey(entries)).toMatch(/^g[0-9a-f]{31}$/);
    expect(moduleGraphKey(entries)).not.toBe(appInputKey());
    const modules = synthModules(entries)!;
    for (const m of entries.concat(['lib/tessera-app.ts', 'constructs/network.ts'])) expect(modules, m).toContain(m);
    for (const m of ['lib/preflight/run.ts', 'lib/preflight/iam-eval.ts', 'lib/cli/program.ts']) expect(modules, m).not.toContain(m);
  });

  afterEach(() => vi.unstubAllEnvs());

  it('holds the CDK_* variables: a snapshot made with CDK_VALIDATION=false (no validation report) never answers a run with validation on (hostile review 6)', () => {
    const overrides = { tiers: {} };
    vi.stubEnv('CDK_VALIDATION', undefined);
    const plain = [cacheKey(), cacheKey(overrides)];
    expect(plain[0]).toBe(appInputKey());
    vi.stubEnv('CDK_VALIDATION', 'false');
    const off = [cacheKey(), cacheKey(overrides)];
    expect(off[0]).not.toBe(plain[0]);
    expect(off[1]).not.toBe(plain[1]);
    expect(off[0]).not.toBe(off[1]);
    vi.stubEnv('CDK_DEFAULT_REGION', 'eu-west-1');
    expect(cacheKey(overrides)).not.toBe(off[1]);
  });
});
