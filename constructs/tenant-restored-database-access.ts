import { Aws, type CfnCondition, type CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TENANT_DB_USERS } from './tenant-access-policies.js';

export interface TenantRestoredDatabaseAccessProps {
  /** The tier's DR region, where the failover blueprint runs and the restored instance lives. */
  readonly drRegion: string;
  /**
   * The restored instance's DbiResourceId (`db-` and upper-case letters and digits): a token, the failover
   * blueprint's `RestoredDbiResourceId` parameter. RDS assigns it when the restore creates the instance.
   */
  readonly dbiResourceId: string;
  /**
   * The condition that holds when the runbook has passed the restored instance (`RestoredDbiResourceId`
   * not empty): every resource of this construct carries it, so without it the template grants nothing.
   */
  readonly condition: CfnCondition;
  /**
   * The tenant's workload role and the session condition every workload permission carries (the tenant's
   * `kubernetes-namespace` session tag), as the tier blueprint grants it (constructs/tenant-access-policies.ts).
   * @default - no workload grant (a tier without compute has no workload role)
   */
  readonly workload?: { readonly role: iam.IRole; readonly sessionCondition: Record<string, Record<string, string>> };
  /** The tenant admin role: IAM database authentication as `tenant_admin`, as the tier blueprint grants it. */
  readonly admin: iam.IRole;
}

/**
 * The failover blueprint's grants on the database the runbook restores from the DR vault
 * (`tessera-<id>-restored`): the same IAM database authentication the tier blueprint gives the tenant's
 * roles on their own instance (workload: `rds-db:connect` as `tenant_app`, with the namespace session
 * condition; admin: as `tenant_admin`), named on the restored instance's resource id in the DR region.
 *
 * Why a resource id passed in, and no wildcard: `rds-db:connect` is authorized on
 * `arn:<partition>:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<db user>`, and the DbiResourceId is
 * assigned by RDS when an instance is created (a restore creates a new one; a rename keeps it). It is known
 * only after the restore, so the runbook redeploys the failover stack with it. A `dbuser:*` grant would
 * reach the `tenant_app` user of every tenant's database in a shared (vpc-mode) workload account.
 * Source: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
 *
 * No secret grant: the tier blueprint gives no tenant role the RDS-managed master secret (workloads and
 * admins sign in with IAM database authentication), and the failover keeps it so.
 *
 * One customer-managed policy per role (generated names, each on one imported role), each with
 * `condition`: no policy exists until the runbook passes the restored instance.
 */
export class TenantRestoredDatabaseAccess extends Construct {
  /** The policies, by role: `workload` (absent without compute) and `admin`. */
  readonly policies: { readonly workload?: iam.ManagedPolicy; readonly admin: iam.ManagedPolicy };

  constructor(scope: Construct, id: string, props: TenantRestoredDatabaseAccessProps) {
    super(scope, id);
    const dbUser = (user: string) => `arn:${Aws.PARTITION}:rds-db:${props.drRegion}:${Aws.ACCOUNT_ID}:dbuser:${props.dbiResourceId}/${user}`;
    const policy = (policyId: string, role: iam.IRole, statement: iam.PolicyStatement) => {
      const p = new iam.ManagedPolicy(this, policyId, {
        description: `Tessera tenant failover: IAM database authentication on the restored database in ${props.drRegion}`,
        roles: [role],
        statements: [statement],
      });
      (p.node.defaultChild as CfnResource).cfnOptions.condition = props.condition;
      return p;
    };
    this.policies = {
      workload: props.workload ? policy('Workload', props.workload.role, new iam.PolicyStatement({
        sid: 'RestoredDatabaseIamAuth', actions: ['rds-db:connect'], resources: [dbUser(TENANT_DB_USERS.app)], conditions: props.workload.sessionCondition,
      })) : undefined,
      admin: policy('Admin', props.admin, new iam.PolicyStatement({
        sid: 'RestoredDatabaseIamAuth', actions: ['rds-db:connect'], resources: [dbUser(TENANT_DB_USERS.admin)],
      })),
    };
  }
}
