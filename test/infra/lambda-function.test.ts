import { App } from 'aws-cdk-lib';
import { LogLevel } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it } from 'vitest';
import * as kms from 'aws-cdk-lib/aws-kms';
import { BUNDLING_LOG_LEVEL_CONTEXT, bundlingLogLevel, LambdaFunction } from '../../constructs/lambda-function.js';
import { sharedLambdaBuildCount } from '../../lib/bundling/shared-lambda-build.js';
import { newStack, template } from '../support/synth.js';
import { tempDir } from '../support/temp-dirs.js';

// An App without outdir makes a cdk.out* dir in the OS temp dir that nothing removes.
const app = (context: Record<string, unknown> = {}) => new App({ context, outdir: tempDir('tessera-test-') });

describe('bundling log level', () => {
  it('is quiet by default: esbuild warnings and errors only, no per-file size table', () => {
    // GIVEN / WHEN / THEN
    expect(bundlingLogLevel(app())).toBe(LogLevel.WARNING);
  });

  it('prints more when the tessera:bundlingLogLevel context asks for it', () => {
    // GIVEN
    const scope = app({ [BUNDLING_LOG_LEVEL_CONTEXT]: 'info' });
    // WHEN / THEN
    expect(bundlingLogLevel(scope)).toBe(LogLevel.INFO);
  });

  it('refuses an unknown level, naming the context key and the levels', () => {
    // GIVEN
    const scope = app({ [BUNDLING_LOG_LEVEL_CONTEXT]: 'loud' });
    // WHEN / THEN
    expect(() => bundlingLogLevel(scope)).toThrow(/tessera:bundlingLogLevel is "loud": use one of verbose, debug, info, warning, error, silent/);
  });
});

describe('bundling skipped (aws:cdk:bundling-stacks: [], as the infra tests synthesize)', () => {
  it('runs no esbuild build at all, and still refuses a handler file that names no module', () => {
    // GIVEN a stack whose bundling is skipped
    const stack = newStack();
    const encryptionKey = new kms.Key(stack, 'Key');
    const before = sharedLambdaBuildCount();
    // WHEN a function is added
    new LambdaFunction(stack, 'Fn', { handlerFile: 'lifecycle/set-status', roleName: 'test-fn', encryptionKey, reservedConcurrency: 1, define: { 'process.env.X': '"x"' }, invocation: 'by the test, directly' });
    // THEN its template is there, with the handler the shared build's assets have, and nothing was built
    template(stack).hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    expect(sharedLambdaBuildCount()).toBe(before);
    expect(() => new LambdaFunction(stack, 'Missing', { handlerFile: 'lifecycle/no-such-step', roleName: 'test-missing', encryptionKey, reservedConcurrency: 1, invocation: 'by the test, directly' }))
      .toThrow(/handlerFile "lifecycle\/no-such-step" names no module \(.*lambdas\/lifecycle\/no-such-step\.ts does not exist\)/);
  });
});
