/**
 * The root email of an account-isolation tenant's AWS account: `organization.accountEmail` with `{tenantId}` replaced by
 * the tenant id, an address the platform owns (as Landing Zone Accelerator's and Account Factory for Terraform's account
 * emails are), never the tenant admin's. Whoever receives a root email can reset the root password of an account in the
 * platform's organization, and Organizations takes an address for one account only (CreateAccount fails
 * EMAIL_ALREADY_EXISTS for the next), so one person could not be the first admin of two account tenants.
 *
 * The rules are CreateAccount's `Email` (AWS Organizations API Reference, CreateAccount, Email: "The rules for a valid
 * email address"): 6-64 characters of 7-bit ASCII; exactly one `@`; a local part without whitespace or any of
 * `" ' ( ) < > [ ] : ; , \ | % &` that does not begin with a dot; a domain of `[a-zA-Z0-9.-]` only, with at least one dot,
 * not beginning or ending with a hyphen or a dot. "You can't access the root user of the account or remove an account
 * that was created with an invalid email address."
 *
 * No aws-cdk-lib and no SDK here: the config schema and the lifecycle Lambdas import it.
 */

/** The token of `organization.accountEmail` that the tenant id replaces. */
export const TENANT_ID_TOKEN = '{tenantId}';

/** CreateAccount `Email`'s length range, in characters. */
export const ROOT_EMAIL_LENGTH = { min: 6, max: 64 } as const;

/** The shortest and longest tenant ids (lib/tenant-naming.ts TENANT_ID_PATTERN: 3-24 characters), for checking a template. */
const SHORTEST_TENANT_ID = 'a00';
const LONGEST_TENANT_ID = `a${'0'.repeat(23)}`;

// eslint-disable-next-line no-control-regex
const ASCII7 = /^[\x00-\x7f]*$/;
const LOCAL_FORBIDDEN = /[\s"'()<>[\]:;,\\|%&]/;
const DOMAIN = /^[a-zA-Z0-9.-]+$/;

/**
 * Why `email` cannot be CreateAccount's `Email` (the rules above), or undefined when it can.
 * @returns a phrase completing "<email> …", e.g. `has 70 characters; CreateAccount takes 6-64`
 */
export function rootEmailProblem(email: string): string | undefined {
  const { min, max } = ROOT_EMAIL_LENGTH;
  if (email.length < min || email.length > max) return `has ${email.length} characters; CreateAccount takes ${min}-${max}`;
  if (!ASCII7.test(email)) return 'has a character outside 7-bit ASCII';
  const parts = email.split('@');
  if (parts.length !== 2) return `has ${parts.length - 1} "@"; an email address has exactly one`;
  const [local, domain] = parts;
  if (local.length === 0) return 'has nothing before "@"';
  const bad = LOCAL_FORBIDDEN.exec(local);
  if (bad) return `has ${JSON.stringify(bad[0])} before "@", which CreateAccount refuses there (whitespace and " ' ( ) < > [ ] : ; , \\ | % &)`;
  if (local.startsWith('.')) return 'begins with a dot';
  if (!DOMAIN.test(domain)) return `has a domain (${JSON.stringify(domain)}) with a character other than a-z, A-Z, 0-9, "-" and "."`;
  if (/^[-.]|[-.]$/.test(domain)) return `has a domain (${JSON.stringify(domain)}) that begins or ends with "-" or "."`;
  if (!domain.includes('.')) return `has a domain (${JSON.stringify(domain)}) without a dot`;
  return undefined;
}

/**
 * The root email of tenant `tenantId`'s account: `template` with every `{tenantId}` replaced.
 * @param template `organization.accountEmail`, e.g. `aws+tessera-{tenantId}@platform.example.com`
 */
export function tenantAccountEmail(template: string, tenantId: string): string {
  return template.split(TENANT_ID_TOKEN).join(tenantId);
}

/**
 * Why `template` cannot be `organization.accountEmail`, or undefined when it can (accountEmailTemplateProblems' first).
 */
export function accountEmailTemplateProblem(template: string): string | undefined {
  return accountEmailTemplateProblems(template)[0];
}

/**
 * Every reason `template` cannot be `organization.accountEmail` (none when it can), so that one run names them all: it
 * must hold `{tenantId}` (else every tenant's account would ask for one address, and the second CreateAccount fails
 * EMAIL_ALREADY_EXISTS), and the address it gives the shortest (3 characters) and the longest (24) tenant id must both be
 * CreateAccount emails (without `{tenantId}`, the template itself is that address).
 * @returns the reasons, each completing "<template>: …", the missing `{tenantId}` first
 */
export function accountEmailTemplateProblems(template: string): string[] {
  const problems: string[] = [];
  if (!template.includes(TENANT_ID_TOKEN)) {
    problems.push(`must contain ${TENANT_ID_TOKEN}, which each tenant's id replaces (e.g. aws+tessera-${TENANT_ID_TOKEN}@platform.example.com): Organizations gives an email to one account only, so a fixed address fails the second tenant's CreateAccount (EMAIL_ALREADY_EXISTS)`);
    const problem = rootEmailProblem(template);
    if (problem) problems.push(`is an address which ${problem}: Organizations CreateAccount would refuse it as an account's root email`);
    return problems;
  }
  for (const tenantId of [LONGEST_TENANT_ID, SHORTEST_TENANT_ID]) {
    const email = tenantAccountEmail(template, tenantId);
    const problem = rootEmailProblem(email);
    if (problem) {
      const which = tenantId === LONGEST_TENANT_ID ? 'the longest tenant id (24 characters)' : 'the shortest tenant id (3 characters)';
      problems.push(`gives ${which} the address ${JSON.stringify(email)}, which ${problem}: Organizations CreateAccount would refuse it as the account's root email`);
      break;
    }
  }
  return problems;
}
