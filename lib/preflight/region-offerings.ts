/**
 * What a Region offers of what the blueprints create, from cfn-lint's bundled Region data (pinned 1.58.0 in
 * requirements-dev.txt), read offline (no AWS credentials):
 * - resource types: `data/schemas/providers/<region>.json`, the types CloudFormation's registry has in the Region
 *   (cfn-lint rule E3006, "Resource type … does not exist in …");
 * - RDS DB instance classes per engine: `data/schemas/extensions/aws_rds_dbinstance/dbinstanceclass_enum.json`
 *   (E3025, from AWS's pricing data);
 * - ElastiCache node types: `…/aws_elasticache_cachecluster/cachenodetype_enum.json` (cfn-lint applies it to
 *   `AWS::ElastiCache::CacheCluster`; a replication group's `CacheNodeType` takes the same node types, so it is
 *   applied to `AWS::ElastiCache::ReplicationGroup` here too);
 * - EC2 instance types: `…/aws_ec2_instance/instancetype_enum.json` (cfn-lint's for `AWS::EC2::Instance`; applied
 *   here to an EKS managed node group's `InstanceTypes`, which EC2 launches);
 * - SageMaker hosting instance types: `…/aws_sagemaker_hosting/instancetype_enum.json` (cfn-lint's for an endpoint
 *   config's production variants; applied here to a tier's `training.endpointInstanceTypes`, the instance types of
 *   the endpoints its tenants' fine-tuned models are deployed to at run time, in no template).
 *
 * A Region absent from an instance-class file is not checked for that file (cfn-lint does the same: its data
 * has no opinion there); a Region without a providers file is reported (cfn-lint older than the Region).
 * Reading a Region's providers file costs ~100 kB of JSON; the class files (3.7 MB for RDS) are read once per
 * process, and only when a template has a resource of their type.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateCfnLint } from './provider-schemas.js';

type Json = Record<string, unknown>;

/** One resource property whose value a Region does not offer, or a resource type it lacks. */
export interface RegionGap {
  readonly logicalId: string;
  readonly type: string;
  /** The property whose value is not offered (`DBInstanceClass`, `InstanceTypes[1]`); undefined when the type itself is missing. */
  readonly property?: string;
  /** The value not offered; undefined when the type itself is missing. */
  readonly value?: string;
}

/** A resource as the check reads it: a template's logical id, type and (resolved) properties. */
export interface RegionCheckedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly props: Record<string, unknown>;
}

const EXTENSIONS = ['data', 'schemas', 'extensions'];
const CLASS_FILES = {
  rds: [...EXTENSIONS, 'aws_rds_dbinstance', 'dbinstanceclass_enum.json'],
  elasticache: [...EXTENSIONS, 'aws_elasticache_cachecluster', 'cachenodetype_enum.json'],
  ec2: [...EXTENSIONS, 'aws_ec2_instance', 'instancetype_enum.json'],
  sagemakerHosting: [...EXTENSIONS, 'aws_sagemaker_hosting', 'instancetype_enum.json'],
} as const;

/** Region data of one cfn-lint install; files are read on first use and kept. */
export class RegionOfferings {
  private readonly types = new Map<string, Set<string> | undefined>();
  private readonly classFiles = new Map<keyof typeof CLASS_FILES, Json>();

  /** @param cfnLintDir the cfnlint package directory (locateCfnLint) */
  constructor(readonly cfnLintDir: string = locateCfnLint()) {}

  /** The resource types CloudFormation has in `region`, or undefined when cfn-lint has no data for the Region. */
  resourceTypes(region: string): ReadonlySet<string> | undefined {
    if (!this.types.has(region)) {
      const file = join(this.cfnLintDir, 'data', 'schemas', 'providers', `${region}.json`);
      this.types.set(region, existsSync(file) ? new Set(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as Json)) : undefined);
    }
    return this.types.get(region);
  }

  private classFile(kind: keyof typeof CLASS_FILES): Json {
    if (!this.classFiles.has(kind)) this.classFiles.set(kind, JSON.parse(readFileSync(join(this.cfnLintDir, ...CLASS_FILES[kind]), 'utf8')) as Json);
    return this.classFiles.get(kind)!;
  }

  /**
   * Whether RDS sells DB instance class `instanceClass` for a DB instance of `props` (its `Engine`, lower-cased as
   * cfn-lint does, and `LicenseModel`) in `region`: every entry of the Region's `allOf` whose `if` the properties
   * match must list the class. Undefined when the data has no entry for the Region or the engine.
   */
  dbInstanceClassOffered(region: string, props: Record<string, unknown>, instanceClass: string): boolean | undefined {
    const entries = (this.classFile('rds')[region] as { allOf?: Array<{ if: IfSchema; then: { properties: { DBInstanceClass: { enum: string[] } } } }> } | undefined)?.allOf;
    const instance = { ...props, DBInstanceClass: instanceClass, Engine: typeof props.Engine === 'string' ? props.Engine.toLowerCase() : props.Engine };
    const matching = (entries ?? []).filter((e) => ifMatches(e.if, instance));
    return matching.length ? matching.every((e) => e.then.properties.DBInstanceClass.enum.includes(instanceClass)) : undefined;
  }

  /** Whether ElastiCache offers node type `nodeType` in `region`; undefined without data for the Region. */
  cacheNodeTypeOffered(region: string, nodeType: string): boolean | undefined {
    return enumOf(this.classFile('elasticache'), region)?.includes(nodeType);
  }

  /**
   * Whether SageMaker hosting (a real-time endpoint's production variant, CreateEndpointConfig) offers `instanceType`
   * in `region`, from cfn-lint's `aws_sagemaker_hosting/instancetype_enum.json` (AWS's pricing data, as for EC2);
   * undefined without data for the Region.
   */
  sageMakerHostingInstanceTypeOffered(region: string, instanceType: string): boolean | undefined {
    return enumOf(this.classFile('sagemakerHosting'), region)?.includes(instanceType);
  }

  /** Whether EC2 offers instance type `instanceType` in `region`; undefined without data for the Region. */
  ec2InstanceTypeOffered(region: string, instanceType: string): boolean | undefined {
    return enumOf(this.classFile('ec2'), region)?.includes(instanceType);
  }

  /**
   * What of `resources` `region` does not offer: each resource type CloudFormation lacks there (`Custom::` types
   * are Lambda-backed and skipped, as cfn-lint does), and each DB instance class, cache node type and EKS node
   * group instance type not sold there. Values that are not plain strings (an unresolved parameter) are skipped.
   * @throws Error naming the Region when cfn-lint has no data for it (a Region newer than the pinned cfn-lint)
   */
  gaps(region: string, resources: Iterable<RegionCheckedResource>): RegionGap[] {
    const types = this.resourceTypes(region);
    if (!types) throw new Error(`cfn-lint (${this.cfnLintDir}) has no Region data for ${region}: a Region newer than the pinned cfn-lint; update cfn-lint in requirements-dev.txt`);
    const out: RegionGap[] = [];
    for (const r of resources) {
      if (r.type.startsWith('Custom::')) continue;
      if (!types.has(r.type)) {
        out.push({ logicalId: r.logicalId, type: r.type });
        continue;
      }
      const p = r.props;
      if (r.type === 'AWS::RDS::DBInstance' && typeof p.DBInstanceClass === 'string' && this.dbInstanceClassOffered(region, p, p.DBInstanceClass) === false) {
        out.push({ logicalId: r.logicalId, type: r.type, property: 'DBInstanceClass', value: p.DBInstanceClass });
      }
      if ((r.type === 'AWS::ElastiCache::ReplicationGroup' || r.type === 'AWS::ElastiCache::CacheCluster') && typeof p.CacheNodeType === 'string' && this.cacheNodeTypeOffered(region, p.CacheNodeType) === false) {
        out.push({ logicalId: r.logicalId, type: r.type, property: 'CacheNodeType', value: p.CacheNodeType });
      }
      if (r.type === 'AWS::EKS::Nodegroup' && Array.isArray(p.InstanceTypes)) {
        p.InstanceTypes.forEach((t, i) => {
          if (typeof t === 'string' && this.ec2InstanceTypeOffered(region, t) === false) out.push({ logicalId: r.logicalId, type: r.type, property: `InstanceTypes[${i}]`, value: t });
        });
      }
    }
    return out;
  }
}

interface IfSchema {
  readonly required?: string[];
  readonly properties?: Record<string, false | { const?: unknown; type?: string }>;
}

/** The subset of JSON Schema cfn-lint's `if` clauses use: `required`, and per property `false` (absent), `const`, `type: string`. */
function ifMatches(schema: IfSchema, instance: Record<string, unknown>): boolean {
  if ((schema.required ?? []).some((k) => instance[k] === undefined)) return false;
  return Object.entries(schema.properties ?? {}).every(([k, s]) => {
    const v = instance[k];
    if (s === false) return v === undefined;
    if (v === undefined) return true;
    if ('const' in s && s.const !== v) return false;
    return s.type !== 'string' || typeof v === 'string';
  });
}

function enumOf(file: Json, region: string): string[] | undefined {
  return (file[region] as { enum?: string[] } | undefined)?.enum;
}

let shared: RegionOfferings | undefined;

/** One RegionOfferings per process, over the cfn-lint locateCfnLint finds. @throws Error when cfn-lint is missing */
export function regionOfferings(): RegionOfferings {
  return (shared ??= new RegionOfferings());
}
