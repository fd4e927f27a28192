/**
 * CloudFormation resource provider schemas, as cfn-lint ships them (pinned 1.58.0 in
 * requirements-dev.txt): `data/schemas/providers/<region>.json` maps a type name to a hash,
 * `data/schemas/resources/<hash>.json` is the schema, with `handlers.{create,update,delete}.permissions`
 * (the IAM actions AWS says each handler calls) and the properties' `maxLength`/`pattern`.
 * Source of the schemas: https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type HandlerName = 'create' | 'update' | 'delete';
export const HANDLERS: readonly HandlerName[] = ['create', 'update', 'delete'];

export interface PropertySchema {
  readonly type?: string | string[];
  readonly maxLength?: number;
  readonly minLength?: number;
  readonly pattern?: string;
  readonly $ref?: string;
  readonly items?: PropertySchema;
  readonly properties?: Record<string, PropertySchema>;
}

export interface ProviderSchema {
  readonly typeName: string;
  readonly properties: Record<string, PropertySchema>;
  readonly definitions?: Record<string, PropertySchema>;
  readonly handlers?: Partial<Record<HandlerName | 'read' | 'list', { permissions?: string[] }>>;
  readonly primaryIdentifier?: string[];
  /**
   * JSON pointers (`/properties/BucketName`, `/properties/ResourcesVpcConfig/SubnetIds`) of the properties a change of
   * which replaces the resource ("Update requires: Replacement"): CloudFormation creates a new one and deletes the old.
   */
  readonly createOnlyProperties?: string[];
  /** Whether the type takes tags and which property holds them (`/properties/Tags`, `/properties/BackupVaultTags`…). */
  readonly tagging?: { readonly taggable?: boolean; readonly tagOnCreate?: boolean; readonly tagProperty?: string };
}

/**
 * The cfnlint package directory: `$CFNLINT_DIR`, else `<repo>/.venv/lib/python3.X/site-packages/cfnlint`,
 * else what `<repo>/.venv/bin/python` imports.
 * @throws Error naming the install command when cfn-lint is missing
 */
export function locateCfnLint(repoRoot = resolve(import.meta.dirname, '../..')): string {
  if (process.env.CFNLINT_DIR && existsSync(process.env.CFNLINT_DIR)) return process.env.CFNLINT_DIR;
  const lib = join(repoRoot, '.venv', 'lib');
  if (existsSync(lib)) {
    for (const python of readdirSync(lib)) {
      const dir = join(lib, python, 'site-packages', 'cfnlint');
      if (existsSync(join(dir, 'data', 'schemas'))) return dir;
    }
  }
  try {
    return execFileSync(join(repoRoot, '.venv', 'bin', 'python'), ['-c', 'import cfnlint,os;print(os.path.dirname(cfnlint.__file__))'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('cfn-lint not found; install it with `node scripts/ensure-moto.mjs` (creates .venv with cfn-lint 1.58.0 and the test tools, as `npm test` does) or set CFNLINT_DIR');
  }
}

/** Loads schemas on demand and caches them; one instance per process is enough. */
export class ProviderSchemas {
  private readonly index: Record<string, string>;
  private readonly cache = new Map<string, ProviderSchema | undefined>();
  readonly version: string;

  constructor(readonly cfnLintDir: string = locateCfnLint(), region = 'us-east-1') {
    this.index = JSON.parse(readFileSync(join(cfnLintDir, 'data', 'schemas', 'providers', `${region}.json`), 'utf8')) as Record<string, string>;
    const versionFile = join(cfnLintDir, 'version.py');
    this.version = existsSync(versionFile) ? (/__version__\s*=\s*"([^"]+)"/.exec(readFileSync(versionFile, 'utf8'))?.[1] ?? 'unknown') : 'unknown';
  }

  /** The schema of `typeName`, or undefined for types cfn-lint does not know (custom resources). */
  get(typeName: string): ProviderSchema | undefined {
    if (!this.cache.has(typeName)) {
      const hash = this.index[typeName];
      const file = hash ? join(this.cfnLintDir, 'data', 'schemas', 'resources', `${hash}.json`) : undefined;
      this.cache.set(typeName, file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ProviderSchema) : undefined);
    }
    return this.cache.get(typeName);
  }

  /** The handler's permissions (deduplicated, in schema order); `[]` when the schema lists none. */
  permissions(typeName: string, handler: HandlerName): string[] {
    return [...new Set(this.get(typeName)?.handlers?.[handler]?.permissions ?? [])];
  }

  /**
   * The `createOnlyProperties` of `typeName` (JSON pointers, in schema order); `[]` for a type cfn-lint does not know
   * (a custom resource) or whose schema lists none.
   */
  createOnly(typeName: string): string[] {
    return [...(this.get(typeName)?.createOnlyProperties ?? [])];
  }

  /**
   * A property's schema with `$ref`s to `#/definitions/...` followed; `property` may be a dotted
   * path into nested objects (`BackupPlan.BackupPlanName`).
   */
  property(typeName: string, property: string): PropertySchema | undefined {
    const schema = this.get(typeName);
    const follow = (p: PropertySchema | undefined) => {
      for (let i = 0; p?.$ref && i < 5; i++) p = schema?.definitions?.[p.$ref.replace('#/definitions/', '')];
      return p;
    };
    const [first, ...rest] = property.split('.');
    let prop = follow(schema?.properties[first]);
    for (const part of rest) prop = follow(prop?.properties?.[part]);
    return prop;
  }
}
