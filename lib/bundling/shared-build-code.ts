import { AssetHashType, DockerImage, FeatureFlags, type ILocalBundling, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cxapi from 'aws-cdk-lib/cx-api';
import type { LogLevel } from 'esbuild';
import type { Construct } from 'constructs';
import { relative, resolve } from 'node:path';
import { type ExtraFile, sharedLambdaBuild, type SharedLambdaBuildOptions } from './shared-lambda-build.js';

export interface SharedBuildCodeProps {
  /** Absolute path of `lambdas/`. */
  readonly lambdasDir: string;
  /** Handler file under `lambdasDir`, without extension, e.g. `lifecycle/create-account`. */
  readonly handlerFile: string;
  /** esbuild `define` for this function (functions with equal values share a build). @default - none */
  readonly define?: Record<string, string>;
  /** esbuild's log level. */
  readonly logLevel: LogLevel;
  /** Files copied next to the function's code. @default - none */
  readonly extraFiles?: readonly ExtraFile[];
}

/**
 * Copies one function's files out of the shared build (run on the first function that needs it).
 * Its fields are part of CDK's asset cache key (AssetStaging serializes the bundling options), so two
 * functions share a staged asset only when entry, build options and extra files are all equal.
 */
class SharedBuildBundling implements ILocalBundling {
  readonly handlerFile: string;
  readonly build: SharedLambdaBuildOptions;
  /** Extra files with project-relative sources: the cache key (and the skipped-bundling hash) is the same on every machine. */
  readonly extraFiles: ExtraFile[];

  /** Not serialized (a private field): it is the asset's source path, already in the key. */
  readonly #lambdasDir: string;

  constructor(lambdasDir: string, props: SharedBuildCodeProps, build: SharedLambdaBuildOptions) {
    this.#lambdasDir = lambdasDir;
    this.handlerFile = props.handlerFile;
    this.build = build;
    this.extraFiles = (props.extraFiles ?? []).map((f) => ({ from: relative(resolve(lambdasDir, '..'), f.from), name: f.name }));
  }

  tryBundle(outputDir: string): boolean {
    this.#build().writeFunction(this.handlerFile, outputDir, this.#extraFiles());
    return true;
  }

  /** The digest of the files `tryBundle` writes (`SharedLambdaBuild.functionDigest`); runs the shared build if this process has not yet. */
  contentDigest(): string {
    return this.#build().functionDigest(this.handlerFile, this.#extraFiles());
  }

  #build() {
    return sharedLambdaBuild(this.#lambdasDir, this.build, this.handlerFile);
  }

  #extraFiles(): ExtraFile[] {
    const projectRoot = resolve(this.#lambdasDir, '..');
    return this.extraFiles.map((f) => ({ from: resolve(projectRoot, f.from), name: f.name }));
  }
}

/**
 * A Lambda function's code from the shared esbuild build (lib/bundling/shared-lambda-build.ts): an
 * asset whose content is the function's entry (`index.mjs`, handler `index.handler`), the chunks it
 * loads and `extraFiles`, hashed by that content, so a function whose files did not change keeps its
 * asset hash and is not redeployed.
 *
 * The hash is `AssetHashType.CUSTOM`: CDK's sha256 of `SharedLambdaBuild.functionDigest` (every file's
 * name and the sha256 of its bytes, each chunk hashed once per build) and the bundling options. With
 * `AssetHashType.OUTPUT`, CDK read every written file of every function again to fingerprint its
 * directory (the shared chunks are hard links in many of them: ~200 MB read for ~20 MB of distinct
 * files, and a fingerprint cache file per directory in ~/.cdk) — docs/performance-history.md, Synth time.
 *
 * Bundling follows CDK's rules for every asset: it runs while the function is constructed, and is
 * skipped, with no esbuild run at all, for stacks outside `aws:cdk:bundling-stacks` (tests set it to
 * `[]`; `cdk synth --exclusively` does it for other stacks); such a stack's asset keeps
 * `AssetHashType.OUTPUT`, which CDK turns into a hash of the construct's path without bundling.
 * The AWS SDK v3 is left to the Lambda runtime, with `@smithy/*` too when the
 * `@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages` flag is on, as `NodejsFunction` does.
 * @throws Error with esbuild's messages when the shared build fails (in a stack that bundles)
 */
export function sharedBuildCode(scope: Construct, props: SharedBuildCodeProps): lambda.Code {
  const excludeSmithy = FeatureFlags.of(scope).isEnabled(cxapi.LAMBDA_NODEJS_SDK_V3_EXCLUDE_SMITHY_PACKAGES);
  const build: SharedLambdaBuildOptions = {
    define: { ...props.define },
    logLevel: props.logLevel,
    external: excludeSmithy ? ['@aws-sdk/*', '@smithy/*'] : ['@aws-sdk/*'],
  };
  const local = new SharedBuildBundling(props.lambdasDir, props, build);
  const bundling = {
    // Never run: local bundling always succeeds or throws.
    image: DockerImage.fromRegistry('tessera-shared-lambda-build-runs-locally'),
    local,
  };
  if (!Stack.of(scope).bundlingRequired) return lambda.Code.fromAsset(props.lambdasDir, { assetHashType: AssetHashType.OUTPUT, bundling });
  return lambda.Code.fromAsset(props.lambdasDir, { assetHashType: AssetHashType.CUSTOM, assetHash: local.contentDigest(), bundling });
}
