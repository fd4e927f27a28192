import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cachedJson } from './disk-cache.js';
import { motoBinary } from './moto-server.js';

/**
 * What moto's CloudFormation can create, asked of moto itself rather than written down here.
 *
 * moto builds its resource-type table from the direct subclasses of `CloudFormationModel`
 * (`moto/cloudformation/parsing.py`, `get_model_map()`); a template resource of any other type is
 * skipped with a warning ("No Moto CloudFormation support"), and a `Custom::*` resource is handed
 * to moto's Lambda backend, which invokes the ServiceToken function in Docker — the kubectl
 * provider of the shared cluster is no function moto has, so custom resources cannot be created
 * here either. Outputs and properties may only read attributes a model declares
 * (`has_cfn_attr`): any other `Fn::GetAtt` fails the stack ("Template error" / UnsupportedAttribute).
 * On deletion moto calls the model's `delete`, else its `delete_from_cloudformation_json`, else
 * nothing (`ResourceMap._delete_resource`, `parse_and_delete_resource`).
 */
export interface MotoCloudFormation {
  /** moto's version, e.g. `5.2.5`. */
  readonly version: string;
  /** Resource types moto's CloudFormation creates (its model map). */
  readonly types: ReadonlySet<string>;
  /** Whether moto creates resources of `type` in a template. */
  creates(type: string): boolean;
  /**
   * Whether moto's DeleteStack (and the removal in UpdateStack) deletes resources of `type`: its
   * model has a `delete` method or a `delete_from_cloudformation_json`. For any other type moto
   * skips the deletion silently and the resource stays.
   */
  deletes(type: string): boolean;
  /**
   * Whether moto's UpdateStack updates a resource of `type` whose template entry changed: its
   * model has an `update_from_cloudformation_json`. For any other type moto's update replaces the
   * resource by nothing (`ResourceMap.update` stores the None that `parse_and_update_resource`
   * returns), and every later `Fn::GetAtt` of it fails ("references undefined resource").
   */
  updates(type: string): boolean;
  /** Whether moto answers `Fn::GetAtt` of `attribute` on a resource of `type` (a type it creates). */
  hasAttribute(type: string, attribute: string): boolean;
}

const QUERY = `
import json, sys
import moto
from moto.cloudformation.parsing import get_model_map, NULL_MODELS
pairs = json.loads(sys.stdin.read())
models = get_model_map()
def updates(model):
    return not getattr(model.update_from_cloudformation_json, "__isabstractmethod__", False)
def deletes(model):
    return callable(getattr(model, "delete", None)) or not getattr(model.delete_from_cloudformation_json, "__isabstractmethod__", False)
print(json.dumps({
  "version": moto.__version__,
  "types": sorted(t for t in models if "::" in t and t not in NULL_MODELS),
  "deletable": sorted(t for t, m in models.items() if "::" in t and deletes(m)),
  "updatable": sorted(t for t, m in models.items() if "::" in t and updates(m)),
  "attributes": [bool(models[t].has_cfn_attr(a)) if t in models else False for t, a in pairs],
}))
`;

const cache = new Map<string, MotoCloudFormation>();

interface MotoAnswers { version: string; types: string[]; deletable: string[]; updatable: string[]; attributes: boolean[] }

/**
 * Which moto answers: its interpreter and the distributions installed beside it (`moto-5.2.5.dist-info`
 * and the rest), so that another moto, or another version of one of its dependencies, is another key.
 */
function motoInstallation(python: string): unknown {
  const lib = join(dirname(python), '..', 'lib');
  const sitePackages = existsSync(lib) ? readdirSync(lib).map((v) => join(lib, v, 'site-packages')).filter(existsSync) : [];
  return { python, distributions: sitePackages.flatMap((dir) => readdirSync(dir).filter((n) => n.endsWith('.dist-info')).sort()) };
}

/**
 * Asks moto (the project's `.venv`) for its CloudFormation model map and, for each
 * `[type, attribute]` pair given, whether the model declares that attribute. One Python process
 * (about 2 s of CPU: it imports every moto backend) per distinct question and installation of
 * moto, its answer kept in this process and in the disk cache (disk-cache.ts) for the other test
 * files of the run.
 */
export function motoCloudFormation(attributePairs: ReadonlyArray<readonly [string, string]> = []): MotoCloudFormation {
  const pairs = [...new Map(attributePairs.map((p) => [`${p[0]}.${p[1]}`, p])).values()].sort((a, b) => `${a}`.localeCompare(`${b}`));
  const key = JSON.stringify(pairs);
  const hit = cache.get(key);
  if (hit) return hit;
  const python = `${dirname(motoBinary())}/python`;
  const out = cachedJson('moto-cloudformation', { installation: motoInstallation(python), pairs }, () =>
    JSON.parse(execFileSync(python, ['-c', QUERY], { input: key, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] })) as MotoAnswers);
  const types = new Set(out.types);
  const deletable = new Set(out.deletable);
  const updatable = new Set(out.updatable);
  const attributes = new Map(pairs.map((p, i) => [`${p[0]}.${p[1]}`, out.attributes[i]]));
  const answer: MotoCloudFormation = {
    version: out.version,
    types,
    creates: (type) => !type.startsWith('Custom::') && types.has(type),
    deletes: (type) => deletable.has(type),
    updates: (type) => updatable.has(type),
    hasAttribute: (type, attribute) => {
      const known = attributes.get(`${type}.${attribute}`);
      if (known === undefined) throw new Error(`moto was not asked about ${type}.${attribute}; pass it to motoCloudFormation()`);
      return known;
    },
  };
  cache.set(key, answer);
  return answer;
}
