import { PutAlternateContactCommand, type AccountClient } from '@aws-sdk/client-account';
import { alternateContactEntries, type AlternateContacts, type AlternateContactType } from '../../lib/config/alternate-contacts.js';

/**
 * A tenant account's alternate contacts (AFT's `alternate_contact`, LZA's account alternate contacts), set from the
 * organization's management account with `AccountId`: AWS Account Management API Reference, PutAlternateContact,
 * `AccountId`: "the caller must be an identity in the organization's management account or a delegated administrator
 * account, and the specified account ID must be a member account in the same organization. The organization must have
 * all features enabled, and the organization must have trusted access enabled for the Account Management service";
 * and "Before you can update the alternate contact information for an AWS account that is managed by AWS Organizations,
 * you must first enable integration between AWS Account Management and Organizations". A tenant account is a member
 * account, so the call is the management account's (lambdas/shared/sessions.ts accountClient, as *Enable regions*'
 * account:EnableRegion), not one from inside the tenant account. PutAlternateContact overwrites the contact of its type
 * (it "modifies the specified alternate contact"): the call is safe to repeat.
 */

/** The Account Management action the step needs: granted on member accounts for the configured types only (account:AlternateContactTypes). */
export const ALTERNATE_CONTACT_ACTIONS = ['account:PutAlternateContact'] as const;

/**
 * The Account Management API refused the management account's PutAlternateContact (AccessDeniedException): no trusted
 * access for account.amazonaws.com in the organization, or the caller lacks the grant. The message names both fixes.
 */
export class AlternateContactsDeniedError extends Error {
  override readonly name = 'AlternateContactsDenied';
}

/**
 * Puts each contact of `contacts` (BILLING, OPERATIONS, SECURITY, in that order) in member account `accountId`, one
 * PutAlternateContact each, with the config's fields as they are (the config schema checked them against the API's rules).
 * @param account the Account Management client of the management account (sessions.ts accountClient)
 * @param accountId the tenant's 12-digit member account id
 * @param contacts the tier's `alternateContacts`
 * @returns the types set, in call order
 * @throws AlternateContactsDeniedError on AccessDeniedException, naming trusted access and the grant; any other Account
 *   Management error as it is (TooManyRequestsException past the SDK's retries, InternalServerException): the step fails,
 *   and `tessera tenants retry` runs it again (the calls overwrite, so the contacts already set are set again)
 */
export async function putAlternateContacts(account: AccountClient, accountId: string, contacts: AlternateContacts): Promise<AlternateContactType[]> {
  const set: AlternateContactType[] = [];
  for (const { type, contact } of alternateContactEntries(contacts)) {
    try {
      await account.send(new PutAlternateContactCommand({
        AccountId: accountId, AlternateContactType: type, Name: contact.name, Title: contact.title, EmailAddress: contact.emailAddress, PhoneNumber: contact.phoneNumber,
      }));
    } catch (e) {
      const err = e as { name?: string; message?: string };
      if (err.name === 'AccessDeniedException' || err.name === 'AccessDenied') {
        throw new AlternateContactsDeniedError(`account:PutAlternateContact (${type}) for account ${accountId} was denied (${err.message ?? String(e)}): `
          + 'the organization needs trusted access for account.amazonaws.com (from the management account: aws organizations enable-aws-service-access --service-principal account.amazonaws.com), '
          + `and the lifecycle's Account Management grant account:PutAlternateContact with account:AlternateContactTypes ${type} (redeploy TesseraOrganization, or TesseraPlatform when the platform account is the management account, after setting the tier's alternateContacts), then retry`);
      }
      throw e;
    }
    set.push(type);
  }
  return set;
}
