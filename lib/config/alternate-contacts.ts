import { z } from 'zod';

/**
 * A tier's `alternateContacts` (AFT's `alternate_contact` of an account request, LZA's account alternate contacts): the
 * BILLING, OPERATIONS and SECURITY contacts AWS writes to besides the root email, set in each new tenant account of the
 * tier at onboarding (lambdas/lifecycle/set-alternate-contacts.ts). No aws-cdk-lib and no SDK here: the config schema
 * and the lifecycle Lambdas import it.
 *
 * The rules are the AWS Account Management API's (API Reference, PutAlternateContact and the AlternateContact data type,
 * https://docs.aws.amazon.com/accounts/latest/reference/API_PutAlternateContact.html): every field is required; `name`
 * 1-64 characters, `title` 1-50, `emailAddress` 1-254 matching `^[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*$`, `phoneNumber`
 * 1-25 of digits, whitespace and `( ) + -` (`^[\s0-9()+-]+$`). A config value AWS would refuse fails at synth, naming the
 * key path, instead of failing every onboarding of the tier with a ValidationException.
 */

/** AlternateContactType, by the config's key for it. */
export const ALTERNATE_CONTACT_TYPES = { billing: 'BILLING', operations: 'OPERATIONS', security: 'SECURITY' } as const;
export type AlternateContactKey = keyof typeof ALTERNATE_CONTACT_TYPES;
export type AlternateContactType = (typeof ALTERNATE_CONTACT_TYPES)[AlternateContactKey];

/**
 * PutAlternateContact's `EmailAddress` pattern, as the API Reference writes it, read as AWS's (Java) regular expressions
 * read it: `\s` is white space of ASCII only (space, tab, line feed, vertical tab, form feed, carriage return), `\w` ASCII
 * letters, digits and `_`. JavaScript's `\s` also takes Unicode spaces (a no-break space U+00A0, U+202F, U+2028, U+FEFF),
 * which a contact copied from a web page or a document often carries: synth took them, and every onboarding of the tier
 * then failed at *Set alternate contacts*.
 */
export const ALTERNATE_CONTACT_EMAIL = /^[ \t\n\v\f\r]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[ \t\n\v\f\r]*$/;
/** PutAlternateContact's `PhoneNumber` pattern (`^[\s0-9()+-]+$`), `\s` as ALTERNATE_CONTACT_EMAIL reads it: ASCII white space only. */
export const ALTERNATE_CONTACT_PHONE = /^[ \t\n\v\f\r0-9()+-]+$/;

const text = (max: number) => z.string().min(1, `must not be empty (PutAlternateContact takes 1-${max} characters)`)
  .max(max, `has more than ${max} characters; PutAlternateContact takes 1-${max}`);

/** One alternate contact: PutAlternateContact's Name, Title, EmailAddress and PhoneNumber, all required. */
export const AlternateContactSchema = z.object({
  /** `Name`: 1-64 characters; a team name serves (an alternate contact does not have to be a person). */
  name: text(64),
  /** `Title`: 1-50 characters. */
  title: text(50),
  /** `EmailAddress`: 1-254 characters, one `@`, a domain with a dot; a distribution list serves. */
  emailAddress: text(254).regex(ALTERNATE_CONTACT_EMAIL, 'is not an address PutAlternateContact takes (pattern ^[\\s]*[\\w+=.#|!&-]+@[\\w.-]+\\.[\\w]+[\\s]*$: ASCII letters, digits, _ + = . # | ! & - before one @, a domain with a dot; \\s is ASCII white space: a no-break space is refused)'),
  /** `PhoneNumber`: 1-25 characters of digits, spaces and `( ) + -`. */
  phoneNumber: text(25).regex(ALTERNATE_CONTACT_PHONE, 'has a character PutAlternateContact refuses: only digits, spaces and ( ) + - (pattern ^[\\s0-9()+-]+$; \\s is ASCII white space: a no-break space is refused)'),
}).strict();
export type AlternateContact = z.infer<typeof AlternateContactSchema>;

/** A tier's `alternateContacts`: any of `billing`, `operations`, `security`, at least one. */
export const AlternateContactsSchema = z.object({
  billing: AlternateContactSchema.optional(),
  operations: AlternateContactSchema.optional(),
  security: AlternateContactSchema.optional(),
}).strict().refine((c) => Object.values(c).some(Boolean), { message: 'names no contact: give at least one of billing, operations, security, or remove the key' });
export type AlternateContacts = z.infer<typeof AlternateContactsSchema>;

/** The contacts of `contacts` as PutAlternateContact types, in the order BILLING, OPERATIONS, SECURITY. */
export function alternateContactEntries(contacts: AlternateContacts): Array<{ type: AlternateContactType; contact: AlternateContact }> {
  return (Object.keys(ALTERNATE_CONTACT_TYPES) as AlternateContactKey[])
    .filter((k) => contacts[k])
    .map((k) => ({ type: ALTERNATE_CONTACT_TYPES[k], contact: contacts[k]! }));
}

/**
 * The AlternateContactType values any tier of `tiers` sets: the `account:AlternateContactTypes` values the lifecycle's
 * Account Management grant allows (constructs/organization-access-role.ts alternateContactStatements). Empty: no grant.
 */
export function configuredAlternateContactTypes(tiers: Record<string, { alternateContacts?: AlternateContacts }>): AlternateContactType[] {
  const set = new Set(Object.values(tiers).flatMap((t) => (t.alternateContacts ? alternateContactEntries(t.alternateContacts).map((e) => e.type) : [])));
  return Object.values(ALTERNATE_CONTACT_TYPES).filter((t) => set.has(t));
}
