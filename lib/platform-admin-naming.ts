/**
 * Name of the customer-managed policy of platform admins. The `TesseraPlatformAdmin` permission set
 * (`tessera admins create`) references it by this name, so it is a contract: Identity Center
 * attaches a customer-managed policy by name and path in each account it provisions to. The
 * PlatformAdminAccess construct (constructs/platform-admin-access.ts) creates the policy.
 *
 * It lives here, not in the construct's file, so the `tessera` CLI reads it without importing
 * aws-cdk-lib and cdk-nag: those imports cost every CLI start about 1 s of CPU on this machine.
 */
export const PLATFORM_ADMIN_POLICY_NAME = 'TesseraPlatformAdminAccess';
