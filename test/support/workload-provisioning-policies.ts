import { App, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { cdkJsonContext } from '../../lib/cdk-json-context.js';
import type { PolicyJson } from '../../lib/preflight/iam-eval.js';
import { WorkloadProvisioningStack } from '../../lib/workload-provisioning-stack.js';
import type { configWith } from './synth.js';
import { tempDir } from './temp-dirs.js';

/** The shared workload account the provisioning-role tests deploy into. */
export const WORKLOAD_ACCOUNT = '333333333333';
/** The home region the role's template is deployed in. */
export const WORKLOAD_HOME_REGION = 'us-east-1';

/**
 * The workload provisioning role's managed policies (lib/workload-provisioning-stack.ts), resolved
 * as CloudFormation resolves them in account WORKLOAD_ACCOUNT, region WORKLOAD_HOME_REGION
 * (partition `aws`, a stand-in blueprint bucket name), ready for lib/preflight/iam-eval.ts.
 */
export function provisioningPolicies(config: ReturnType<typeof configWith>): Array<{ name: string; policy: PolicyJson }> {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, outdir: tempDir('tessera-test-') });
  const stack = new WorkloadProvisioningStack(new Stage(app, 'Blueprints'), 'TesseraWorkloadProvisioning', { config, blueprintVersion: '0.0.0-test' });
  const values: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': WORKLOAD_HOME_REGION, 'AWS::AccountId': WORKLOAD_ACCOUNT, BlueprintBucketName: 'tesseraplatform-blueprintsbucket-abc123' };
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string' && values[o.Ref] !== undefined) return values[o.Ref];
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
  };
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy'))
    .map((p: any) => ({ name: p.Properties.ManagedPolicyName, policy: resolve(p.Properties.PolicyDocument) as PolicyJson }));
}
