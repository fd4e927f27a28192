import type { CfnResource, CfnValue } from './stand-ins.js';

/**
 * Resource properties moto's CloudFormation reads differently from AWS, and the minimal rewrite
 * of each that lets moto create the resource. Each entry names the moto behaviour it works
 * around (moto 5.2.5, `.venv/lib/python3.11/site-packages/moto/`); each rewrite keeps the
 * resource and changes only the property moto mishandles. An entry applies only where the
 * template has the shape it fixes, and the derivation reports every application.
 */
export interface Transformation {
  readonly type: string;
  /** What the rewrite does, as reported: `<logicalId>.<what>`. */
  readonly what: string;
  /** Why moto needs it. */
  readonly why: string;
  /** Rewrites `resource` in place; returns whether it changed anything. */
  apply(resource: CfnResource, logicalId: string): boolean;
}

const isObject = (v: unknown): v is Record<string, CfnValue> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Numbers in the condition blocks of an IAM policy document become strings; returns whether any did. */
function stringifyConditionNumbers(document: CfnValue): boolean {
  if (!isObject(document)) return false;
  let changed = false;
  for (const statement of [document.Statement ?? []].flat()) {
    if (!isObject(statement) || !isObject(statement.Condition)) continue;
    for (const operator of Object.values(statement.Condition)) {
      if (!isObject(operator)) continue;
      for (const [key, value] of Object.entries(operator)) {
        if (typeof value === 'number') {
          operator[key] = String(value);
          changed = true;
        } else if (Array.isArray(value) && value.some((v) => typeof v === 'number')) {
          operator[key] = value.map((v) => (typeof v === 'number' ? String(v) : v));
          changed = true;
        }
      }
    }
  }
  return changed;
}

const IAM_POLICY_NUMBERS = (type: string, documents: (p: Record<string, CfnValue>) => CfnValue[]): Transformation => ({
  type,
  what: 'policy condition numbers as strings',
  why: "moto's IAM policy validator accepts only strings, booleans and lists as condition values (MalformedPolicyDocument: Syntax errors in policy.); AWS accepts JSON numbers, and Numeric* operators read both alike",
  apply: (r) => documents(r.Properties ?? {}).map(stringifyConditionNumbers).some(Boolean),
});

export const TRANSFORMATIONS: readonly Transformation[] = [
  {
    type: 'AWS::KMS::Key',
    what: 'KeyPolicy as a JSON string (Fn::ToJsonString)',
    why: 'moto stores KeyPolicy as given: with an object, DescribeKey fails (HTTP 500) and GetKeyPolicy returns an object where the API has a string',
    apply: (r) => {
      const policy = r.Properties?.KeyPolicy;
      if (!isObject(policy) || 'Fn::ToJsonString' in policy) return false;
      r.Properties!.KeyPolicy = { 'Fn::ToJsonString': policy };
      return true;
    },
  },
  {
    type: 'AWS::KMS::Key',
    what: 'Tags as {TagKey, TagValue}',
    why: "moto hands CloudFormation's {Key, Value} tags to its KMS tagger, which reads KMS's API shape {TagKey, TagValue} (KeyError 'TagKey', HTTP 500 on CreateStack)",
    apply: (r) => {
      const tags = r.Properties?.Tags;
      if (!Array.isArray(tags) || !tags.some((t) => isObject(t) && 'Key' in t)) return false;
      r.Properties!.Tags = tags.map((t) => ({ TagKey: (t as Record<string, CfnValue>).Key, TagValue: (t as Record<string, CfnValue>).Value }));
      return true;
    },
  },
  {
    type: 'AWS::RDS::DBInstance',
    what: 'DBParameterGroupName removed',
    why: "moto resolves Ref of an AWS::RDS::DBParameterGroup to the model object (it has no physical id; its name is random), and its DBInstance handler fails on it ('DBParameterGroup' object has no attribute 'startswith', HTTP 500); the parameter group itself stays",
    apply: (r) => {
      const group = r.Properties?.DBParameterGroupName;
      if (!isObject(group) || !('Ref' in group)) return false;
      delete r.Properties!.DBParameterGroupName;
      return true;
    },
  },
  {
    type: 'AWS::SSM::Parameter',
    what: 'Name given (CFN-<logicalId>-<stack name>)',
    why: "moto's handler passes a missing Name to PutParameter ('NoneType' object has no attribute 'lower', HTTP 500); AWS generates a name",
    apply: (r, id) => {
      if (r.Properties?.Name !== undefined) return false;
      r.Properties = { ...r.Properties, Name: { 'Fn::Join': ['-', ['CFN', id, { Ref: 'AWS::StackName' }]] } };
      return true;
    },
  },
  {
    type: 'AWS::Logs::LogGroup',
    what: 'KmsKeyId as kmsKeyId',
    why: "moto's LogGroup reads the key under the API's parameter name (kmsKeyId) from the CloudFormation properties, so KmsKeyId is dropped and the log group is not under the key",
    apply: (r) => {
      const key = r.Properties?.KmsKeyId;
      if (key === undefined) return false;
      delete r.Properties!.KmsKeyId;
      r.Properties!.kmsKeyId = key;
      return true;
    },
  },
  IAM_POLICY_NUMBERS('AWS::IAM::ManagedPolicy', (p) => [p.PolicyDocument]),
  IAM_POLICY_NUMBERS('AWS::IAM::Policy', (p) => [p.PolicyDocument]),
  IAM_POLICY_NUMBERS('AWS::IAM::Role', (p) => [p.AssumeRolePolicyDocument, ...[p.Policies ?? []].flat().map((x) => (isObject(x) ? x.PolicyDocument : undefined))]),
];
