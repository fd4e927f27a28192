import { CfnElement, Names, NestedStack, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The compliance packs every Tessera stage is checked against; synth fails on any finding. */
export function applyCompliancePacks(stage: IConstruct): void {
  Validations.of(stage).addPlugins(new AwsSolutionsChecks(stage), new HIPAASecurityChecks(stage), new NIST80053R5Checks(stage));
}

/**
 * Acknowledges cdk-nag rules on one construct, with the reason they are acceptable there.
 * Rule ids are the pack-qualified ids cdk-nag reports, e.g. `AwsSolutions-IAM5[Resource::*]`.
 */
export function acknowledge(construct: IConstruct, ruleIds: string[], reason: string): void {
  if (reason.length < 40) throw new Error(`acknowledgement of ${ruleIds.join(', ')} on ${construct.node.path} needs a specific reason, got "${reason}"`);
  // Scope it to the one CloudFormation resource an L2 stands for, never to everything beneath it.
  // Construct annotations (warnings CDK attaches to the L2 itself) stay on the L2.
  const isAnnotation = ruleIds.every((id) => id.startsWith('Annotation::'));
  const target = isAnnotation ? construct : (construct.node.defaultChild ?? construct);
  Validations.of(target).acknowledge(...ruleIds.map((id) => ({ id: asNestedStackFinding(target, id), reason })));
}

/**
 * A finding id written with the parent stack's logical ids (`<AuditBucket061C3377.Arn>`, as
 * {@link wildcardResourceFinding} renders them from the construct that grants), as cdk-nag reports
 * it on a resource of a nested stack, where that reference is one of the nested stack's parameters
 * (`<referencetoTesseraPlatformAuditBucket061C3377Arn>`, aws-cdk-lib's name for it). Unchanged
 * outside a nested stack, and for a token of the nested stack itself or a pseudo parameter.
 */
function asNestedStackFinding(target: IConstruct, id: string): string {
  const stack = Stack.of(target);
  if (!NestedStack.isNestedStack(stack) || !id.includes('<')) return id;
  const parent = stack.nestedStackParent;
  if (!parent) return id;
  return id.replace(/<([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?>/g, (whole, logicalId: string, attr: string | undefined) => {
    if (elementOf(stack, logicalId)) return whole;
    const element = elementOf(parent, logicalId);
    return element ? `<referenceto${Names.nodeUniqueId(element.node)}${attr ?? 'Ref'}>` : whole;
  });
}

/**
 * Per stack, the logical id of each of its CloudFormation elements already looked at by {@link elementOf}, resolved
 * once: resolving every element's logical id (`stack.resolve`, aws-cdk-lib's token resolution) on every lookup was
 * about 45% of the CPU of building the app (an acknowledgement in a nested stack looks up each parent reference in
 * the nested stack, then in its parent). An element added since is resolved when a lookup first meets it.
 */
const resolvedLogicalIds = new WeakMap<Stack, WeakMap<CfnElement, string>>();

/** The CloudFormation element of `stack` (not of its nested stacks) with logical id `logicalId`: the first in `findAll` order. */
function elementOf(stack: Stack, logicalId: string): CfnElement | undefined {
  let known = resolvedLogicalIds.get(stack);
  if (!known) resolvedLogicalIds.set(stack, (known = new WeakMap()));
  for (const c of stack.node.findAll()) {
    if (!CfnElement.isCfnElement(c) || Stack.of(c) !== stack) continue;
    let id = known.get(c);
    if (id === undefined) known.set(c, (id = stack.resolve(c.logicalId) as string));
    if (id === logicalId) return c;
  }
  return undefined;
}

export interface DeployTimeFunctionFindings {
  /** What the function does, e.g. "The blueprint publisher (CDK BucketDeployment)". */
  readonly purpose: string;
  /** IAM4 findings on its service role (AWS-managed policies aws-cdk-lib attaches). */
  readonly managedPolicyFindings?: string[];
  /** IAM5 findings on its generated policy, with why the wildcard is needed. */
  readonly wildcards?: { findings: string[]; reason: string };
  /** Why it runs outside a VPC, when it does. */
  readonly outsideVpcReason?: string;
}

/**
 * Acknowledges, resource by resource, the findings of a Lambda that aws-cdk-lib creates for a
 * deploy-time custom resource (BucketDeployment, the EKS kubectl provider). Their code, runtime,
 * role policies and log groups are aws-cdk-lib's; CloudFormation alone invokes them, synchronously.
 */
export function acknowledgeDeployTimeFunction(fn: IConstruct, findings: DeployTimeFunctionFindings): void {
  const { purpose } = findings;
  const child = (path: string) => path.split('/').reduce<IConstruct | undefined>((c, id) => c?.node.tryFindChild(id), fn);
  const resource = child('Resource');
  if (resource) {
    acknowledge(resource, ['AwsSolutions::AwsSolutions-L1'], `${purpose} runs on the Node.js runtime aws-cdk-lib pins for its bundled handler; upgrading aws-cdk-lib upgrades it.`);
    acknowledge(resource, ['HIPAA.Security::HIPAA.Security-LambdaConcurrency', 'NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency'],
      `${purpose} is invoked only by CloudFormation during stack operations, a few calls per deployment; reserved concurrency would only throttle deployments.`);
    acknowledge(resource, ['HIPAA.Security::HIPAA.Security-LambdaDLQ', 'NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ'],
      `${purpose} is a CloudFormation custom-resource handler: a failure fails the stack operation and is retried by it, so there is no asynchronous event for a DLQ to keep.`);
    if (findings.outsideVpcReason) {
      acknowledge(resource, ['HIPAA.Security::HIPAA.Security-LambdaInsideVPC', 'NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC'], `${purpose}: ${findings.outsideVpcReason}`);
    }
  }
  const role = child('ServiceRole');
  if (role && findings.managedPolicyFindings?.length) {
    acknowledge(role, findings.managedPolicyFindings, `${purpose}: aws-cdk-lib attaches these AWS-managed execution policies (logs, and ENIs or image pulls where it runs in a VPC) to its handler role.`);
  }
  const policy = child('ServiceRole/DefaultPolicy');
  if (policy) {
    acknowledge(policy, ['HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy', 'NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy'],
      `${purpose}: aws-cdk-lib generates this role policy from the grants of the one resource it manages and offers no managed-policy option.`);
    if (findings.wildcards) acknowledge(policy, findings.wildcards.findings, `${purpose}: ${findings.wildcards.reason}`);
  }
  const logGroup = child('LogGroup');
  if (logGroup) {
    acknowledge(logGroup, ['HIPAA.Security::HIPAA.Security-CloudWatchLogGroupEncrypted', 'NIST.800.53.R5::NIST.800.53.R5-CloudWatchLogGroupEncrypted'],
      `${purpose}: aws-cdk-lib creates this log group without a key option; it holds deployment diagnostics, never tenant data.`);
  }
}

/**
 * The id cdk-nag's AwsSolutions-IAM5 gives a wildcard resource, computed from the ARN as the
 * policy renders it (tokens as `<Logical.Attr>` / `<AWS::Partition>`), so acknowledgements do
 * not hard-code logical ids or account numbers.
 */
export function wildcardResourceFinding(scope: IConstruct, arn: string): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('Ref' in o) return `<${String(o.Ref)}>`;
      if ('Fn::GetAtt' in o) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
      if ('Fn::Join' in o) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        return parts.map(render).join(sep);
      }
    }
    return JSON.stringify(v);
  };
  return `AwsSolutions::AwsSolutions-IAM5[Resource::${render(Stack.of(scope).resolve(arn))}]`;
}
