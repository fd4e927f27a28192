import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BlueprintExecutionRole } from '../../constructs/blueprint-execution-role.js';
import { newStack } from '../support/synth.js';

/**
 * Issue 17, failover runbook steps 5, 7 and 8: the blueprint execution role deploys a DR tier's
 * failover blueprint in the DR region (and modifies the restored instance there through
 * CloudFormation), so every regional statement names the DR regions the config gives, and no other.
 * What the role may do there is proven by the deploy preflight (test/preflight/dr-tier.ts, failover
 * blueprint and step 7: 0 denied; the same checks denied with the statements limited to the home region).
 */
type Statement = { Sid: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

function policiesOf(drRegions?: string[]): Record<string, Statement[]> {
  const stack = newStack();
  new BlueprintExecutionRole(stack, 'Execution', { roleName: 'TesseraBlueprintExecution', drRegions });
  const policies = Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy');
  return Object.fromEntries(Object.values(policies).map((p: any) => [p.Properties.ManagedPolicyName as string, p.Properties.PolicyDocument.Statement as Statement[]]));
}

/** A `Fn::Join` of literal parts and pseudo parameters, rendered with `<Name>`. */
const rendered = (v: any): string => (typeof v === 'string' ? v : v?.['Fn::Join'] ? (v['Fn::Join'][1] as any[]).map(rendered).join(v['Fn::Join'][0]) : v?.Ref ? `<${v.Ref}>` : JSON.stringify(v));
/** The region of a regional ARN: `HOME` for the stack's own (`<AWS::Region>`), or the literal DR region; undefined for global ones. */
const regionOf = (arn: unknown): string | undefined => {
  const region = /^arn:<AWS::Partition>:(?:ec2|rds|elasticache|backup|secretsmanager|eks|ssm|events|sqs|cloudwatch|kms|logs|vpc-lattice|s3vectors|sns|lambda|ecr):(<AWS::Region>|[a-z0-9*-]*):/.exec(rendered(arn))?.[1];
  return region === '<AWS::Region>' ? 'HOME' : region;
};
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe('blueprint execution role: the failover blueprint\'s regional statements in the DR regions', () => {
  const home = policiesOf();
  const one = policiesOf(['us-west-2']);
  const two = policiesOf(['us-west-2', 'eu-west-1']);
  const regional = (policies: Record<string, Statement[]>) => Object.entries(policies).filter(([name]) => !name.endsWith('-DisasterRecovery') && !name.endsWith('-Identity'));

  it('names its own region without DR tiers; with them, any region limited to its own and each DR region (aws:RequestedRegion) in every regional statement', () => {
    for (const [policies, regions] of [[home, undefined], [one, ['<AWS::Region>', 'us-west-2']], [two, ['<AWS::Region>', 'us-west-2', 'eu-west-1']]] as const) {
      let regionalStatements = 0;
      for (const [name, statements] of regional(policies)) {
        for (const st of statements) {
          const arns = asArray(st.Resource).filter((r) => regionOf(r) !== undefined);
          const requested = st.Condition?.StringEquals?.['aws:RequestedRegion'] as unknown[] | undefined;
          if (!arns.length && st.Resource !== '*') {
            // the global buckets: no region to limit
            expect(requested, `${name} ${st.Sid}`).toBeUndefined();
            continue;
          }
          regionalStatements += 1;
          expect(new Set(arns.map(regionOf)), `${name} ${st.Sid}`).toEqual(new Set(st.Resource === '*' ? [] : [regions ? '*' : 'HOME']));
          if (regions) expect(requested?.map(rendered), `${name} ${st.Sid}`).toEqual(regions);
          else expect(requested, `${name} ${st.Sid}`).toBeUndefined();
        }
      }
      expect(regionalStatements).toBeGreaterThanOrEqual(13);
    }
    // the global ones (IAM) are never limited by region: IAM's requests go to us-east-1
    for (const st of two['TesseraBlueprintExecution-Identity']!) expect(st.Condition?.StringEquals?.['aws:RequestedRegion'], st.Sid).toBeUndefined();
  });

  it('uses keys through the services of those regions only (kms:ViaService)', () => {
    const via = (policies: Record<string, Statement[]>) => Object.values(policies).flat().find((s) => s.Sid === 'UseKeysOnlyThroughServices')!.Condition!.StringEquals['kms:ViaService'];
    const services = ['backup', 'rds', 'elasticache', 'eks', 'secretsmanager', 's3vectors'];
    expect((via(home) as unknown[]).map(rendered)).toEqual(services.map((s) => `${s}.<AWS::Region>.amazonaws.com`));
    expect((via(one) as unknown[]).map(rendered)).toEqual([...services.map((s) => `${s}.<AWS::Region>.amazonaws.com`), ...services.map((s) => `${s}.us-west-2.amazonaws.com`)]);
  });

  it('grants step 7 in the DR region: ModifyDBInstance on the account\'s DB instances there, RDS-managed secrets rds!*, keys through Secrets Manager', () => {
    const all = Object.values(one).flat();
    const rds = all.find((s) => s.Sid === 'PostgreSql')!;
    expect(rds.Action).toContain('rds:ModifyDBInstance');
    expect(asArray(rds.Resource).map(rendered)).toEqual(['arn:<AWS::Partition>:rds:*:<AWS::AccountId>:*']);
    expect((rds.Condition!.StringEquals['aws:RequestedRegion'] as unknown[]).map(rendered)).toEqual(['<AWS::Region>', 'us-west-2']);
    const secrets = all.find((s) => s.Sid === 'RdsManagedSecrets')!;
    expect(secrets.Action).toEqual(['secretsmanager:CreateSecret', 'secretsmanager:TagResource']);
    expect(asArray(secrets.Resource).map(rendered)).toEqual(['arn:<AWS::Partition>:secretsmanager:*:<AWS::AccountId>:secret:rds!*']);
    expect((secrets.Condition!.StringEquals['aws:RequestedRegion'] as unknown[]).map(rendered)).toEqual(['<AWS::Region>', 'us-west-2']);
  });

  it('keeps the default config\'s role as it was (one region) and each policy under IAM\'s 6,144 characters with three DR regions', () => {
    expect(Object.keys(home).sort()).toEqual(['TesseraBlueprintExecution-Compute', 'TesseraBlueprintExecution-DataStores', 'TesseraBlueprintExecution-Identity', 'TesseraBlueprintExecution-KeysLogsAndBuckets', 'TesseraBlueprintExecution-Network']);
    for (const [name, statements] of Object.entries(policiesOf(['us-west-2', 'eu-west-1', 'eu-central-1']))) {
      // tokens rendered as in the account baseline (Fn::Join), about as long as the ARNs they become
      expect(JSON.stringify({ Version: '2012-10-17', Statement: statements }).replace(/\s/g, '').length, name).toBeLessThan(6144);
    }
  });
});
