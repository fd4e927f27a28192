import { CfnParameter, CfnRule, Fn, type Stack } from 'aws-cdk-lib';
import type { PlaceholderFinding } from './config/placeholders.js';

/** Logical ids of the guard, a contract with the tests and docs/configuration.md. */
export const PLACEHOLDER_GUARD = { parameter: 'TesseraConfigPlaceholders', rule: 'TesseraNoPlaceholders', value: 'placeholders-remain' } as const;

/**
 * Makes `stack` undeployable while the config it was synthesized from holds placeholders of the
 * embedded default (`findings`), whatever deploys it (`cdk deploy`, the console, a pipeline):
 * CloudFormation evaluates template rules before it creates or changes anything, and this rule's
 * assertion cannot hold (its parameter admits only `placeholders-remain`; the rule asks for
 * `none`). The assertion description lists the keys to set.
 * Source: CloudFormation User Guide, "Rules" (rules validate parameters before resources are
 * created or updated). A config file with placeholders never gets this far: synth refuses it.
 */
export function addPlaceholderGuard(stack: Stack, findings: readonly PlaceholderFinding[]): void {
  if (findings.length === 0) return;
  const keys = findings.map((f) => f.path).join(', ');
  const parameter = new CfnParameter(stack, PLACEHOLDER_GUARD.parameter, {
    type: 'String',
    default: PLACEHOLDER_GUARD.value,
    allowedValues: [PLACEHOLDER_GUARD.value],
    description: `Not a setting: this template was synthesized from the embedded default config, whose placeholders remain (${keys}).`,
  });
  new CfnRule(stack, PLACEHOLDER_GUARD.rule, {
    assertions: [{
      assert: Fn.conditionEquals(parameter.valueAsString, 'none'),
      assertDescription: `Tessera refuses to deploy placeholders of its embedded default config: set ${keys} in a config file and deploy with -c tessera:configFile=<file>.`.slice(0, 1000),
    }],
  });
}
