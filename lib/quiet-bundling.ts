/**
 * aws-cdk-lib writes `Bundling asset <path>...` to stderr for every asset it bundles, with no
 * option to turn it off (core/lib/asset-staging.js). Tessera stages about 40 Lambda assets (each
 * copied out of one shared esbuild build, lib/bundling/shared-lambda-build.ts), so a synth would
 * print 40 lines that say nothing went wrong. This drops exactly those lines from this
 * process's stderr; everything else (esbuild's warnings and errors, CDK's own errors) passes.
 * `-c tessera:bundlingLogLevel=info` keeps them (see constructs/lambda-function.ts).
 * @param verbose keep the lines
 */
export function quietBundlingProgress(verbose: boolean): void {
  if (verbose) return;
  const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) =>
    (typeof chunk === 'string' && /^Bundling asset [^\n]*\.\.\.\n$/.test(chunk) ? true : write(chunk, ...rest))) as typeof process.stderr.write;
}
