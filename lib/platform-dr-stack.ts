import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { PlatformDrResources } from '../constructs/platform-dr-resources.js';
import type { PlatformConfig } from './config/schema.js';

export interface PlatformDrStackProps extends StackProps {
  readonly config: PlatformConfig;
}

/**
 * The platform's disaster-recovery stack (`TesseraPlatformDr`) in `platformDisasterRecovery.region`,
 * platform account: the replica audit bucket, its key and the registry's DR backup vault. Built
 * only when the config names a DR region; deploy it before TesseraPlatform (replication and the
 * backup copy target its resources by name). It has no reference to or from the platform stack.
 */
export class PlatformDrStack extends Stack {
  readonly resources: PlatformDrResources;

  constructor(scope: Construct, id: string, props: PlatformDrStackProps) {
    super(scope, id, props);
    this.resources = new PlatformDrResources(this, 'Dr', { objectLockRetentionDays: props.config.audit.objectLockRetentionDays });
  }
}
