/**
 * A DR tenant database's RDS backup and maintenance windows, placed by the tenant's backup minute (lib/backup-schedule-minute.ts)
 * so that every run of its AWS Backup rules can start. AWS Backup starts no backup of an RDS instance in the hour before its
 * maintenance window or during it (AWS Backup Developer Guide, Backup plan options and configuration, Backup window,
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html), and a DR tier's rules start
 * within 60 minutes (constructs/tenant-database.ts): with the window RDS picks at random (30 minutes, any day), a run whose
 * whole start window fell in those 90 minutes never started, and its recovery point and DR copy were missing once a week
 * (preflight rule `backup-runs-clear-rds-maintenance`, lib/preflight/rds-window-rules.ts).
 *
 * The maintenance window is Sunday 02:<m+15>-02:<m+45> UTC (m the backup minute; past :59 into the next hour): its blackout,
 * 01:<m+15> to 02:<m+45>, leaves the 01:<m> run its first 15 minutes and the 02:<m> run its last 15 (an hourly DR rule's
 * runs are delayed, none is lost; rules every 3 hours or more are not touched), and misses the daily (03:<m>) and
 * monthly (04:<m>) rules. The backup window is 00:<m+15>-00:<m+45> daily, two hours clear of it: RDS refuses a
 * PreferredBackupWindow that overlaps PreferredMaintenanceWindow, and both must be at least 30 minutes
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html).
 */

/** A DB instance's PreferredBackupWindow (`hh24:mi-hh24:mi`) and PreferredMaintenanceWindow (`ddd:hh24:mi-ddd:hh24:mi`), UTC. */
export interface RdsWindows { readonly backup: string; readonly maintenance: string }

const at = (hour: number, minute: number): string => {
  const total = hour * 60 + minute;
  return `${String(Math.floor(total / 60) % 24).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
};

/**
 * The windows of a database whose Backup rules start at `minute` past the hour.
 * @param minute the tenant's backup minute, a whole number 0-59
 * @throws Error when `minute` is not a whole number from 0 to 59
 */
export function rdsWindowsFor(minute: number): RdsWindows {
  if (!Number.isInteger(minute) || minute < 0 || minute > 59) throw new Error(`rdsWindowsFor minute must be a whole number from 0 to 59, got ${minute}`);
  return {
    backup: `${at(0, minute + 15)}-${at(0, minute + 45)}`,
    maintenance: `sun:${at(2, minute + 15)}-sun:${at(2, minute + 45)}`,
  };
}
