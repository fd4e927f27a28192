/**
 * The bundle of a guarded kubectl handler (constructs/guarded-kubectl-handler.ts): aws-cdk-lib's kubectl handler with the guard
 * and the module the guards share beside it, and a function aws-cdk-lib made (aws-eks-v2's KubectlProvider handler) switched to
 * that code and the guard's entry point. Bundling runs here (the app's infra tests skip it), as `cdk deploy` runs it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { guardedKubectlHandlerCode, guardKubectlHandler, V1_KUBECTL_HANDLER, V2_KUBECTL_HANDLER } from '../../constructs/guarded-kubectl-handler.js';
import { tempDir } from '../support/temp-dirs.js';

function bundledStack() {
  const app = new App({ outdir: tempDir('tessera-guarded-kubectl-') });
  return { app, stack: new Stack(app, 'Guarded', { env: { account: '123456789012', region: 'us-east-1' } }) };
}

/** The files of the asset staged under `scope` (its `Code` child, as lambda.Code.fromAsset binds it). */
function stagedFiles(app: App, scope: Construct): string[] {
  const asset = scope.node.findChild('Code') as s3assets.Asset;
  return readdirSync(join(app.outdir, asset.assetPath)).sort();
}

describe('a guarded kubectl handler', () => {
  it('bundles aws-cdk-lib\'s handler (index.py and its apply, helm, patch, get packages) with the guard and namespace_stack.py', () => {
    const { app, stack } = bundledStack();
    for (const [dir, guard] of [[V1_KUBECTL_HANDLER, 'tenant_role_guard'], [V2_KUBECTL_HANDLER, 'tenant_manifest_guard']] as const) {
      const fn = new lambda.Function(stack, guard, { code: guardedKubectlHandlerCode(dir, guard), handler: `${guard}.handler`, runtime: lambda.Runtime.PYTHON_3_13 });
      expect(stagedFiles(app, fn)).toEqual([...readdirSync(dir), `${guard}.py`, 'namespace_stack.py'].sort());
      expect(existsSync(join(dir, 'index.py'))).toBe(true); // what the guard calls
    }
  });

  it('switches a function aws-cdk-lib made to the guarded code and the guard\'s entry point, in place', () => {
    const { app, stack } = bundledStack();
    const fn = new lambda.Function(stack, 'Handler', { code: lambda.Code.fromAsset(V2_KUBECTL_HANDLER), handler: 'index.handler', runtime: lambda.Runtime.PYTHON_3_13 });
    const logicalId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    guardKubectlHandler(fn, V2_KUBECTL_HANDLER, 'tenant_manifest_guard', 'guarded');
    const guarded = fn.node.findChild('Guarded');
    expect(stagedFiles(app, guarded)).toContain('tenant_manifest_guard.py');
    const asset = guarded.node.findChild('Code') as s3assets.Asset;
    const resource = Template.fromStack(stack).toJSON().Resources[logicalId];
    expect(resource.Properties).toMatchObject({ Handler: 'tenant_manifest_guard.handler', Description: 'guarded' });
    expect(resource.Properties.Code.S3Key).toBe(`${asset.assetHash}.zip`);
    expect(resource.Properties.Code.S3Key).not.toBe(`${(fn.node.findChild('Code') as s3assets.Asset).assetHash}.zip`);
  });
});
