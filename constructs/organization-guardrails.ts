import * as organizations from 'aws-cdk-lib/aws-organizations';
import { Construct } from 'constructs';
import { guardrailPolicy, quarantinePolicy, SCP_MAX_CHARACTERS, type GuardrailInput, type PolicyDocument } from '../lib/guardrail-policies.js';

export interface OrganizationGuardrailsProps extends GuardrailInput {
  /** Parent of the Tessera OUs (the organization root or an OU). */
  readonly parentId: string;
  /** Tier names; each gets an OU `tessera-<tier>`. */
  readonly tiers: string[];
  readonly quarantineOuName: string;
  readonly suspendedOuName: string;
}

/**
 * The Tessera OUs (one per tier, Quarantine, Suspended) and their SCPs: guardrails on every
 * Tessera OU; on Quarantine and Suspended, a deny of everything but the provisioning role.
 */
export class OrganizationGuardrails extends Construct {
  readonly tierOus: Record<string, organizations.CfnOrganizationalUnit> = {};
  readonly quarantineOu: organizations.CfnOrganizationalUnit;
  readonly suspendedOu: organizations.CfnOrganizationalUnit;
  /** `tessera-quarantine` (on Quarantine and Suspended): the one SCP the lifecycle attaches to and detaches from accounts. */
  readonly quarantineScp: organizations.CfnPolicy;

  constructor(scope: Construct, id: string, props: OrganizationGuardrailsProps) {
    super(scope, id);
    for (const tier of props.tiers) {
      this.tierOus[tier] = new organizations.CfnOrganizationalUnit(this, `TierOu-${tier}`, { name: `tessera-${tier}`, parentId: props.parentId });
    }
    this.quarantineOu = new organizations.CfnOrganizationalUnit(this, 'QuarantineOu', { name: props.quarantineOuName, parentId: props.parentId });
    this.suspendedOu = new organizations.CfnOrganizationalUnit(this, 'SuspendedOu', { name: props.suspendedOuName, parentId: props.parentId });

    const allOus = [...Object.values(this.tierOus), this.quarantineOu, this.suspendedOu];
    this.scp('GuardrailsScp', 'tessera-guardrails', 'Tessera guardrails: organization, CloudTrail, regions, root user, Tessera roles and tenant keys', guardrailPolicy(props), allOus.map((ou) => ou.attrId));
    this.quarantineScp = this.scp('QuarantineScp', 'tessera-quarantine', 'Tessera quarantine: only the deployers and the blueprint service roles act in these accounts', quarantinePolicy(props), [this.quarantineOu.attrId, this.suspendedOu.attrId]);
  }

  private scp(id: string, name: string, description: string, content: PolicyDocument, targetIds: string[]): organizations.CfnPolicy {
    const size = JSON.stringify(content).length;
    if (size > SCP_MAX_CHARACTERS) {
      throw new Error(`SCP ${name} is ${size} characters; AWS allows ${SCP_MAX_CHARACTERS} (fewer allowedRegions or global-service exemptions would fit)`);
    }
    return new organizations.CfnPolicy(this, id, { name, description, type: 'SERVICE_CONTROL_POLICY', content, targetIds });
  }
}
