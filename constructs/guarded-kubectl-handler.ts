import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** aws-cdk-lib's kubectl handlers (`index.handler` and its apply, helm, patch and get packages), as aws-cdk-lib ships them. */
const KUBECTL_HANDLERS = join(dirname(createRequire(import.meta.url).resolve('aws-cdk-lib/package.json')), 'custom-resource-handlers', 'dist');
/**
 * aws-eks (v1)'s kubectl handler: its `apply` runs `aws eks update-kubeconfig --role-arn <RoleArn>` with the custom resource's
 * `RoleArn`, so kubectl acts as that role.
 */
export const V1_KUBECTL_HANDLER = join(KUBECTL_HANDLERS, 'aws-eks', 'kubectl-handler');
/** aws-eks-v2's kubectl handler: kubectl acts as the function's own execution role (the shared cluster's provider: cluster admin). */
export const V2_KUBECTL_HANDLER = join(KUBECTL_HANDLERS, 'aws-eks-v2', 'kubectl-handler');

/** The guards of the kubectl providers, and the module they share (namespace_stack.py: which tenant's namespace stack sent a request). */
const GUARD_DIR = join(import.meta.dirname, '..', 'lambdas', 'namespace-kubectl');
const SHARED_GUARD_MODULES = ['namespace_stack.py'];

/**
 * A kubectl handler's code with a guard in front: `handlerDir` (one of aws-cdk-lib's kubectl handlers) with `<guard>.py` and the
 * modules the guards share beside it, copied locally (no Docker); the asset's hash is the output's, so a change to any of them
 * changes it. The function's `Handler` is then `<guard>.handler`, which checks the request and calls `index.handler`.
 *
 * @param handlerDir {@link V1_KUBECTL_HANDLER} or {@link V2_KUBECTL_HANDLER}
 * @param guard the guard's module name in lambdas/namespace-kubectl (`tenant_role_guard`)
 */
export function guardedKubectlHandlerCode(handlerDir: string, guard: string): lambda.Code {
  return lambda.Code.fromAsset(GUARD_DIR, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('scratch'), // never pulled: local bundling always succeeds
      // Read by no one: aws-cdk-lib stages an asset once per source path and options (AssetStaging's cache, whose key has no
      // trace of the `local` function), so without a difference here the second guarded handler of an app got the first's bundle.
      environment: { KUBECTL_HANDLER: basename(dirname(handlerDir)), GUARD: guard },
      local: {
        tryBundle(outputDir: string): boolean {
          cpSync(handlerDir, outputDir, { recursive: true });
          for (const module of [`${guard}.py`, ...SHARED_GUARD_MODULES]) cpSync(join(GUARD_DIR, module), join(outputDir, module));
          return true;
        },
      },
    },
  });
}

/**
 * Puts a guard in front of a kubectl handler function that aws-cdk-lib created (aws-eks-v2's `KubectlProvider` takes no code
 * of its own): its `Code` becomes {@link guardedKubectlHandlerCode} (an asset under `<function>/Guarded`) and its `Handler`
 * `<guard>.handler`. The function, its role and logical id stay as they are (an update in place). The function's first asset (the
 * unguarded handler) stays in the stack's asset manifest, which has no removal: `cdk deploy` uploads it, and nothing runs it.
 *
 * @param fn the kubectl handler function (`KubectlProvider/Handler`)
 * @param handlerDir the kubectl handler code it runs ({@link V2_KUBECTL_HANDLER} for aws-eks-v2's provider)
 * @param guard the guard's module name in lambdas/namespace-kubectl
 * @param description the function's new description
 */
export function guardKubectlHandler(fn: lambda.Function, handlerDir: string, guard: string, description: string): void {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const code = guardedKubectlHandlerCode(handlerDir, guard);
  const bound = code.bind(new Construct(fn, 'Guarded'));
  code.bindToResource(cfn, { resourceProperty: 'Code' });
  if (!bound.s3Location) throw new Error(`guarded kubectl handler code of ${fn.node.path} is no S3 asset`);
  cfn.code = { s3Bucket: bound.s3Location.bucketName, s3Key: bound.s3Location.objectKey, s3ObjectVersion: bound.s3Location.objectVersion };
  cfn.handler = `${guard}.handler`;
  cfn.description = description;
}
