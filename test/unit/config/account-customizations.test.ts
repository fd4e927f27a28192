import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config/config-error.js';
import { readAccountCustomizations } from '../../../lib/config/customization-templates.js';
import { configWith } from '../../support/config-with.js';
import { removeTempDirs, tempDir } from '../../support/temp-dirs.js';

afterAll(removeTempDirs);

const SECURITY = resolve('test/fixtures/customizations/security.yaml');
const ROLE = { managedPolicyArns: ['arn:aws:iam::aws:policy/AmazonSNSFullAccess'] };
const enterprise = (entries: unknown[]) => configWith({ tiers: { enterprise: { accountCustomizations: entries, accountCustomizationsRole: ROLE } } });
/** The problems readAccountCustomizations throws for `config`, one line each. */
const problemsOf = (config: ReturnType<typeof configWith>): readonly string[] => {
  try {
    readAccountCustomizations(config);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
  throw new Error('no ConfigError');
};
const dir = tempDir('customizations');
const templateFile = (name: string, template: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof template === 'string' ? template : JSON.stringify(template));
  return path;
};
const topic = { Type: 'AWS::SNS::Topic' };

describe('tiers.<tier>.accountCustomizations (config)', () => {
  it('is refused on a VPC tier, naming the key and why', () => {
    expect(() => configWith({ tiers: { starter: { accountCustomizations: [{ name: 'security', templateFile: SECURITY }] } } }))
      .toThrow(/tiers\.starter\.accountCustomizations.*applies only to an "account" isolation tier: a "vpc" tier's tenants share the workload account/s);
  });

  it('refuses a name that cannot end a stack name, and a name twice in a tier', () => {
    expect(() => enterprise([{ name: 'Security_Hub', templateFile: SECURITY }])).toThrow(/tiers\.enterprise\.accountCustomizations\[0\]\.name.*lower-case letters, digits and hyphens/s);
    expect(() => enterprise([{ name: 'security', templateFile: SECURITY }, { name: 'security', templateFile: SECURITY }]))
      .toThrow(/tiers\.enterprise\.accountCustomizations\[1\]\.name.*"security" is the name of an earlier customization/s);
  });
});

describe('tiers.<tier>.accountCustomizationsRole (config)', () => {
  const withRole = (role: unknown, entries: unknown[] = [{ name: 'security', templateFile: SECURITY }]) => configWith({ tiers: { enterprise: { accountCustomizations: entries, accountCustomizationsRole: role } } });

  it('is required with accountCustomizations (the stacks never run as the blueprint execution role), and applies only with them', () => {
    expect(() => configWith({ tiers: { enterprise: { accountCustomizations: [{ name: 'security', templateFile: SECURITY }] } } }))
      .toThrow(/tiers\.enterprise\.accountCustomizationsRole.*is required with accountCustomizations: the customization stacks run as their own role tessera-account-customizations/s);
    expect(() => configWith({ tiers: { enterprise: { accountCustomizationsRole: ROLE } } })).toThrow(/tiers\.enterprise\.accountCustomizationsRole.*applies only with accountCustomizations/s);
  });

  it('takes AWS managed policy ARNs and the tenant account\'s own as arn:…:{accountId}:policy/…; refuses anything else naming the key and the value', () => {
    expect(withRole({ managedPolicyArns: ['arn:aws:iam::aws:policy/AWSSecurityHubFullAccess', 'arn:aws:iam::aws:policy/service-role/AWS_ConfigRole', 'arn:aws:iam::{accountId}:policy/team/SecurityTooling'] })
      .tiers.enterprise.accountCustomizationsRole?.managedPolicyArns).toHaveLength(3);
    for (const bad of ['arn:aws:iam::123456789012:policy/Tooling', 'AdministratorAccess', 'arn:aws:iam::aws:role/Admin', 'arn:aws:s3:::bucket']) {
      expect(() => withRole({ managedPolicyArns: [bad] })).toThrow(new RegExp(`tiers\\.enterprise\\.accountCustomizationsRole\\.managedPolicyArns\\[0\\].*must be an IAM managed policy ARN`, 's'));
    }
    expect(() => withRole({ managedPolicyArns: [] })).toThrow(/accountCustomizationsRole\.managedPolicyArns/);
    expect(() => withRole({ managedPolicyArns: Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`) })).toThrow(/at most 10 \(IAM's quota of managed policies per role\)/);
    expect(() => withRole({ managedPolicyArns: ['arn:aws:iam::aws:policy/P'], inlinePolicy: {} })).toThrow(/inlinePolicy/);
  });
});

describe('readAccountCustomizations (synth)', () => {
  it('reads a YAML template with CloudFormation\'s short forms into the JSON the catalog publishes, under customizations/<tier>/<name>', () => {
    const [c] = readAccountCustomizations(enterprise([{ name: 'security', templateFile: SECURITY, parameters: { AlertEmail: 'sec@platform.example.com' } }]));
    expect(c).toMatchObject({ tier: 'enterprise', name: 'security', file: 'customizations/enterprise/security.template.json' });
    expect(c.template.Resources).toMatchObject({
      Alerts: { Properties: { TopicName: { 'Fn::Sub': '${Prefix}-security-alerts' } } },
      AlertSubscription: { Properties: { TopicArn: { Ref: 'Alerts' }, Endpoint: { Ref: 'AlertEmail' } } },
      Marker: { Properties: { Value: { 'Fn::GetAtt': ['Alerts', 'TopicName'] } } },
    });
  });

  it('reads YAML as CloudFormation does (YAML 1.1): yes/on/off booleans, 0755 octal, a date a string', () => {
    const file = templateFile('yaml11.yaml', [
      'Resources:', '  Bucket:', '    Type: AWS::S3::Bucket', '    Properties:',
      '      ObjectLockEnabled: yes', '      Versioned: on', '      Public: off', '      Mode: 0755', '      Since: 2026-12-05', '      Name: !Sub "${AWS::StackName}-x"',
    ].join('\n'));
    const [c] = readAccountCustomizations(enterprise([{ name: 'yaml11', templateFile: file }]));
    expect((c.template.Resources as Record<string, { Properties: unknown }>).Bucket.Properties).toEqual({
      ObjectLockEnabled: true, Versioned: true, Public: false, Mode: 493, Since: '2026-12-05', Name: { 'Fn::Sub': '${AWS::StackName}-x' },
    });
  });

  it('resolves an alias inside a short form\'s sequence or mapping (!Join, !If, !Sub\'s variables) to what its anchor holds, as YAML does anywhere else', () => {
    const file = templateFile('aliases.yaml', [
      'Conditions:', '  Prod: !Equals [!Ref "AWS::Region", us-east-1]',
      'Resources:', '  Bucket:', '    Type: AWS::S3::Bucket', '    Properties:',
      '      Tags: &tags', '        - Key: team', '          Value: core',
      '      BucketName: !Join ["-", &parts [a, b]]',
      '  Topic:', '    Type: AWS::SNS::Topic', '    Properties:',
      '      Tags: !If [Prod, *tags, !Ref "AWS::NoValue"]',
      '      TopicName: !Join ["-", *parts]',
      '      DisplayName: !Sub ["${X}", &vars {X: !Ref "AWS::StackName"}]',
      '      KmsMasterKeyId: !Sub ["${X}-key", *vars]',
    ].join('\n'));
    const [c] = readAccountCustomizations(enterprise([{ name: 'aliases', templateFile: file }]));
    expect((c.template.Resources as Record<string, { Properties: unknown }>).Topic.Properties).toEqual({
      Tags: { 'Fn::If': ['Prod', [{ Key: 'team', Value: 'core' }], { Ref: 'AWS::NoValue' }] },
      TopicName: { 'Fn::Join': ['-', ['a', 'b']] },
      DisplayName: { 'Fn::Sub': ['${X}', { X: { Ref: 'AWS::StackName' } }] },
      KmsMasterKeyId: { 'Fn::Sub': ['${X}-key', { X: { Ref: 'AWS::StackName' } }] },
    });
    // and aliases there count towards the expansion limit like any others (a "billion laughs" inside !Join)
    const lol = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++) lol.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} !Join ["", [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(', ')}]]`);
    const bomb = templateFile('bomb.yaml', [...lol, 'Resources:', '  T:', '    Type: AWS::SNS::Topic'].join('\n'));
    expect(problemsOf(enterprise([{ name: 'bomb', templateFile: bomb }]))).toEqual([expect.stringMatching(/bomb\.yaml" is not valid JSON or YAML: Excessive alias count/)]);
  });

  it('refuses a !GetAtt whose value is not <resource>.<attribute> (no dot, nothing before or after it), naming it, instead of publishing a pair cut from it', () => {
    for (const value of ['Topic', '.TopicName', 'Topic.']) {
      const file = templateFile('getatt.yaml', ['Resources:', '  Topic:', '    Type: AWS::SNS::Topic', '  P:', '    Type: AWS::SSM::Parameter', '    Properties:', `      Value: !GetAtt ${value}`].join('\n'));
      expect(problemsOf(enterprise([{ name: 'getatt', templateFile: file }])), value)
        .toEqual([expect.stringMatching(new RegExp(`getatt\\.yaml" is not valid JSON or YAML: !GetAtt ${value.replace('.', '\\.')} is not <resource>\\.<attribute>`))]);
    }
    const fine = templateFile('getatt-ok.yaml', ['Resources:', '  Db:', '    Type: AWS::RDS::DBInstance', '  P:', '    Type: AWS::SSM::Parameter', '    Properties:', '      Value: !GetAtt Db.Endpoint.Address'].join('\n'));
    expect((readAccountCustomizations(enterprise([{ name: 'ok', templateFile: fine }]))[0]!.template.Resources as Record<string, { Properties: unknown }>).P.Properties).toEqual({ Value: { 'Fn::GetAtt': ['Db', 'Endpoint.Address'] } });
  });

  it('fails naming the key path and the problem: a missing file, a file that is not JSON or YAML, no Resources', () => {
    const problems = problemsOf(enterprise([
      { name: 'gone', templateFile: join(dir, 'absent.yaml') },
      { name: 'broken', templateFile: templateFile('broken.yaml', 'Resources:\n  A: [unclosed\n') },
      { name: 'empty', templateFile: templateFile('empty.json', { Description: 'nothing' }) },
    ]));
    expect(problems).toEqual([
      expect.stringMatching(/^tiers\.enterprise\.accountCustomizations\[0\]\.templateFile: ".*absent\.yaml" cannot be read/),
      expect.stringMatching(/^tiers\.enterprise\.accountCustomizations\[1\]\.templateFile: ".*broken\.yaml" is not valid JSON or YAML/),
      expect.stringMatching(/^tiers\.enterprise\.accountCustomizations\[2\]\.templateFile: ".*empty\.json" is not a CloudFormation template: it has no Resources/),
    ]);
  });

  it('checks the parameters against the template: an undeclared one at its own key, and a required one not given, each naming the template', () => {
    const problems = problemsOf(enterprise([{ name: 'security', templateFile: SECURITY, parameters: { AlertEmial: 'x' } }]));
    expect(problems).toEqual([
      expect.stringMatching(/^tiers\.enterprise\.accountCustomizations\[0\]\.parameters\.AlertEmial: parameter AlertEmial is not declared in the template \(CloudFormation refuses an undeclared parameter\); it declares AlertEmail, Prefix \(template ".*security\.yaml"\)$/),
      expect.stringMatching(/^tiers\.enterprise\.accountCustomizations\[0\]\.parameters: parameter AlertEmail has no Default in the template and no value under parameters .*\(template ".*security\.yaml"\)$/),
    ]);
    const two = templateFile('two.json', { Parameters: { A: { Type: 'String' }, B: { Type: 'String' } }, Resources: { T: topic } });
    expect(problemsOf(enterprise([{ name: 'two', templateFile: two }]))).toEqual([expect.stringContaining('parameters: parameters A, B have no Default in the template')]);
  });

  it('names the config file the customizations come from, as other config errors do', () => {
    try {
      readAccountCustomizations(enterprise([{ name: 'gone', templateFile: join(dir, 'absent.yaml') }]), process.cwd(), 'tessera.config.yaml');
      throw new Error('no ConfigError');
    } catch (e) {
      expect((e as Error).message).toMatch(/^Invalid Tessera config \(tessera\.config\.yaml; account customizations\):\n {2}- tiers\.enterprise\.accountCustomizations\[0\]\.templateFile: /);
    }
  });

  it('refuses a reference to a name the template does not declare (CloudFormation: "Unresolved resource dependencies"), naming the path; pseudo parameters, Fn::Sub variables and ${!literals} are fine', () => {
    const file = templateFile('refs.json', {
      Parameters: { Colour: { Type: 'String', Default: 'blue' } },
      Conditions: { C: { 'Fn::Equals': [{ Ref: 'Colour' }, 'blue'] } },
      Resources: {
        Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { 'Fn::Sub': '${AWS::StackName}-${Colour}-${!Literal}-${Suffix}', }, Tags: [{ Key: 'k', Value: { Ref: 'NoSuchThing' } }] } },
        Param: { Type: 'AWS::SSM::Parameter', Properties: {
          Type: 'String',
          Value: { 'Fn::Sub': ['${Topic.TopicName}/${AWS::Region}/${AWS::AccountId}/${AWS::Partition}/${AWS::URLSuffix}/${AWS::StackId}/${Nope}/${Gone.Arn}', { Suffix: 'x' }] },
          Description: { 'Fn::GetAtt': ['Missing', 'Arn'] },
          Name: { 'Fn::If': ['C', { Ref: 'AWS::NoValue' }, { Ref: 'AWS::NotificationARNs' }] },
          AllowedPattern: { 'Fn::GetAtt': 'Topic.TopicName' },
        } },
      },
      Outputs: { Arn: { Value: { 'Fn::GetAtt': 'Absent.Arn' } } },
    });
    const problems = problemsOf(enterprise([{ name: 'refs', templateFile: file }]));
    expect(problems.map((p) => p.replace(/ \(CloudFormation refuses.*$| of the template.*$/, ''))).toEqual([
      expect.stringMatching(/^tiers\.enterprise\.accountCustomizations\[0\]\.templateFile: ".*refs\.json" refers to Suffix at Resources\.Topic\.Properties\.TopicName \(Fn::Sub\), which is not a parameter, a resource or a pseudo parameter/),
      expect.stringMatching(/refers to NoSuchThing at Resources\.Topic\.Properties\.Tags\[0\]\.Value \(Ref\)/),
      expect.stringMatching(/refers to Nope at Resources\.Param\.Properties\.Value \(Fn::Sub\)/),
      expect.stringMatching(/refers to Gone\.Arn at Resources\.Param\.Properties\.Value \(Fn::Sub\)/),
      expect.stringMatching(/refers to Missing at Resources\.Param\.Properties\.Description \(Fn::GetAtt\), which is not a resource/),
      expect.stringMatching(/refers to Absent at Outputs\.Arn\.Value \(Fn::GetAtt\)/),
    ]);
    expect(problems[1]).toContain('CloudFormation refuses it at CreateStack ("Template format error: Unresolved resource dependencies [NoSuchThing] in the Resources block of the template")');
    // With a Transform, names the transform makes are not known at synth: not checked.
    const serverless = templateFile('sam.json', { Transform: 'AWS::Serverless-2016-10-31', Resources: { T: { ...topic, Properties: { TopicName: { Ref: 'FnRole' } } } } });
    expect(readAccountCustomizations(enterprise([{ name: 'sam', templateFile: serverless }]))).toHaveLength(1);
  });

  it('refuses a condition the template does not define (a resource\'s or an output\'s Condition, Fn::If, a Condition in Conditions) and a Ref of a resource in Conditions, as CloudFormation does', () => {
    const file = templateFile('conditions.yaml', [
      'Parameters:', '  Env:', '    Type: String', '    Default: prod',
      'Conditions:',
      '  IsProd: !Equals [!Ref Env, prod]',
      '  Both: !And [!Condition IsProd, !Condition IsEu]',
      '  OnTopic: !Equals [!Ref Topic, x]',
      'Resources:',
      '  Topic:', '    Type: AWS::SNS::Topic', '    Condition: IsProd', '    Properties:', '      TopicName: !If [IsProd, a, !If [IsStaging, b, c]]',
      '  Queue:', '    Type: AWS::SQS::Queue', '    Condition: HasQueue',
      'Outputs:', '  Arn:', '    Condition: Gone', '    Value: !If [IsProd, !Ref Topic, !Ref "AWS::NoValue"]',
    ].join('\n'));
    expect(problemsOf(enterprise([{ name: 'conditions', templateFile: file }])).map((p) => p.replace(/^tiers\.enterprise\.accountCustomizations\[0\]\.templateFile: ".*conditions\.yaml" /, ''))).toEqual([
      'refers to condition IsEu at Conditions.Both.Fn::And[1] (Condition), which is not a condition of the template (under Conditions): CloudFormation refuses it at CreateStack ("Template format error: Condition IsEu is not defined.")',
      'refers to resource Topic at Conditions.OnTopic.Fn::Equals[0] (Ref): a condition can refer to parameters only, not resources: CloudFormation refuses it at CreateStack ("Template format error: Unresolved dependencies [Topic]. Cannot reference resources in the Conditions block of the template")',
      expect.stringMatching(/^refers to condition IsStaging at Resources\.Topic\.Properties\.TopicName\.Fn::If\[2\] \(Fn::If\)/),
      expect.stringMatching(/^refers to condition HasQueue at Resources\.Queue\.Condition \(Condition\)/),
      expect.stringMatching(/^refers to condition Gone at Outputs\.Arn\.Condition \(Condition\)/),
    ]);
  });

  it('refuses a DependsOn of a resource the template does not declare (CloudFormation: "Unresolved resource dependencies"), in its string and list forms', () => {
    const file = templateFile('depends.json', { Resources: {
      Topic: { ...topic, DependsOn: 'Queue' },
      Other: { ...topic, DependsOn: ['Topic', 'Ghost'] },
    } });
    expect(problemsOf(enterprise([{ name: 'depends', templateFile: file }]))).toEqual([
      expect.stringMatching(/depends\.json" refers to Queue at Resources\.Topic\.DependsOn \(DependsOn\), which is not a resource of the template: CloudFormation refuses it at CreateStack \("Template format error: Unresolved resource dependencies \[Queue\] in the Resources block of the template"\)$/),
      expect.stringMatching(/refers to Ghost at Resources\.Other\.DependsOn\[1\] \(DependsOn\), which is not a resource/),
    ]);
  });

  it('refuses an IAM role named like Tessera\'s (tessera-…, the config\'s roles), a nested stack, and a template over CloudFormation\'s size or resource quota', () => {
    const roles = templateFile('roles.json', { Resources: {
      Admin: { Type: 'AWS::IAM::Role', Properties: { RoleName: { 'Fn::Sub': 'tessera-${AWS::AccountId}-admin' } } },
      Exec: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'tesserablueprintexecution' } },
      Fine: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'platform-log-shipper' } },
      Nested: { Type: 'AWS::CloudFormation::Stack', Properties: { TemplateURL: 'https://example.com/t.json' } },
    } });
    const big = templateFile('big.json', { Resources: { T: { ...topic, Metadata: { blob: 'x'.repeat(1_000_001) } } } });
    const many = templateFile('many.json', { Resources: Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`T${i}`, topic])) });
    const problems = problemsOf(enterprise([{ name: 'roles', templateFile: roles }, { name: 'big', templateFile: big }, { name: 'many', templateFile: many }]));
    expect(problems).toEqual([
      expect.stringMatching(/accountCustomizations\[0\]\.templateFile: .* resource Admin \(AWS::IAM::Role\) has RoleName "tessera-", which starts with "tessera-"/),
      expect.stringMatching(/accountCustomizations\[0\]\.templateFile: .* resource Exec \(AWS::IAM::Role\) has RoleName "tesserablueprintexecution", which is the platform's roles\.blueprintExecutionRoleName/),
      expect.stringMatching(/accountCustomizations\[0\]\.templateFile: .* resource Nested is a nested stack/),
      expect.stringMatching(/accountCustomizations\[1\]\.templateFile: .* is 1,000,0\d\d bytes as published JSON, over CloudFormation's template body size from S3/),
      expect.stringMatching(/accountCustomizations\[2\]\.templateFile: .* declares 501 resources, over CloudFormation's 500 per template/),
    ]);
  });
});
