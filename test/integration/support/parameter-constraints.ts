import type { CfnTemplate } from './derive-moto-blueprint.js';

/**
 * CloudFormation's check of parameter values against the template's constraints, which moto does
 * not make (it takes any value): CreateStack, UpdateStack and CreateChangeSet fail at once with a
 * ValidationError, nothing created or changed. The constraints and where they apply are the User
 * Guide's ("Parameters" section: AllowedPattern must match the entire value of a String, and each
 * value of a CommaDelimitedList; AllowedValues; MinLength/MaxLength of a String; MinValue/MaxValue
 * of a Number):
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
 *
 * The wording is AWS's as reported from real calls (the API reference does not document it):
 * - `Parameter 'Tester' must match pattern ^db…$` (CreateChangeSet; aws/aws-connected-device-framework#183)
 * - `Parameter 'X' must be one of AllowedValues` (aws-amplify/amplify-cli#6224)
 * - `Parameter 'XYZ' must contain at least N characters` (aws-cloudformation/cloudformation-coverage-roadmap#930)
 * - with a ConstraintDescription, that instead: `Parameter Profiles failed to satisfy constraint: <description>`
 *   (AllowedPattern, CreateChangeSet: aws/aws-cli#7750; AllowedValues, CreateStack: aws-ia/taskcat#627).
 * Not found in a report of AWS's own answer, so taken from Eucalyptus' AWS-compatible
 * implementation of the same check: `must contain at most N characters`, `must be a number`,
 * `must be a number not less than N`, `must be a number not greater than N`.
 *
 * Not checked: SSM parameter types (`AWS::SSM::Parameter::Value<…>`: the value is a parameter
 * name, the constraint applies to what it resolves to), parameters without a value (moto's own
 * answer stands), and values of parameters the template does not declare.
 */

interface ParameterDeclaration {
  Type?: string;
  AllowedPattern?: string;
  AllowedValues?: unknown[];
  MinLength?: number | string;
  MaxLength?: number | string;
  MinValue?: number | string;
  MaxValue?: number | string;
  ConstraintDescription?: string;
}

function validationError(message: string): Error {
  return Object.assign(new Error(message), { name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

/** AllowedPattern as CloudFormation applies it: the whole value (Java's `matches`). */
function wholeMatch(pattern: string, key: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (e) {
    throw new Error(`the CloudFormation emulation cannot evaluate parameter ${key}'s AllowedPattern ${pattern} as a JavaScript regular expression: ${(e as Error).message}`);
  }
}

/** The first constraint `value` breaks, in CloudFormation's words without a ConstraintDescription; undefined when it keeps them all. */
function brokenConstraint(key: string, p: ParameterDeclaration, value: string): string | undefined {
  const type = p.Type ?? 'String';
  const list = type === 'CommaDelimitedList' || type.startsWith('List<');
  const items = list ? value.split(',').map((v) => v.trim()) : [value];
  const numeric = type === 'Number' || type === 'List<Number>';
  if (numeric) {
    for (const item of items) {
      const n = item.trim() === '' ? NaN : Number(item);
      if (!Number.isFinite(n)) return `Parameter '${key}' must be a number`;
      if (p.MinValue !== undefined && n < Number(p.MinValue)) return `Parameter '${key}' must be a number not less than ${p.MinValue}`;
      if (p.MaxValue !== undefined && n > Number(p.MaxValue)) return `Parameter '${key}' must be a number not greater than ${p.MaxValue}`;
    }
  } else {
    if (p.MinLength !== undefined && value.length < Number(p.MinLength)) return `Parameter '${key}' must contain at least ${p.MinLength} characters`;
    if (p.MaxLength !== undefined && value.length > Number(p.MaxLength)) return `Parameter '${key}' must contain at most ${p.MaxLength} characters`;
    if (p.AllowedPattern !== undefined) {
      const re = wholeMatch(p.AllowedPattern, key);
      if (items.some((item) => !re.test(item))) return `Parameter '${key}' must match pattern ${p.AllowedPattern}`;
    }
  }
  if (p.AllowedValues) {
    const allowed = p.AllowedValues.map(String);
    const allowedItem = (item: string) => allowed.includes(item) || (numeric && allowed.some((a) => Number(a) === Number(item)));
    if (!items.every(allowedItem)) return `Parameter '${key}' must be one of AllowedValues`;
  }
  return undefined;
}

/**
 * Checks every parameter the template declares that has a value in `values` (the operation's
 * values with the template's defaults), in the template's order.
 * @throws ValidationError (AWS's `name`, `$fault` client, HTTP 400) naming the first parameter whose value breaks a constraint
 */
export function checkParameterValues(template: CfnTemplate, values: Record<string, string>): void {
  for (const [key, declared] of Object.entries(template.Parameters ?? {})) {
    const p = declared as ParameterDeclaration;
    const value = values[key];
    if (value === undefined || (p.Type ?? '').startsWith('AWS::SSM::Parameter::')) continue;
    const broken = brokenConstraint(key, p, value);
    if (!broken) continue;
    throw validationError(p.ConstraintDescription ? `Parameter ${key} failed to satisfy constraint: ${p.ConstraintDescription}` : broken);
  }
}
