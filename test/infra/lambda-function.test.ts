import { App } from 'aws-cdk-lib';
import { LogLevel } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it } from 'vitest';
import { BUNDLING_LOG_LEVEL_CONTEXT, bundlingLogLevel } from '../../constructs/lambda-function.js';
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
