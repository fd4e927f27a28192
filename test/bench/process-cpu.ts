// CPU time of whole process groups, read from Linux's /proc, for the gateway benchmark's --cpu mode.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ; 100 on every mainstream Linux build). */
const TICKS_PER_SECOND = 100;

/**
 * User + system CPU time, in ms, of every live process whose process group is `pgid` (all their
 * threads included: /proc/<pid>/stat counts the whole thread group). The bench starts each server
 * detached, so its group is the server and whatever it spawned (npx's grandchild for Portkey).
 * Resolution: one tick, 10 ms. Processes that exited are not counted (none should during a run).
 * @throws Error when /proc is not there (not Linux)
 */
export function groupCpuMs(pgid: number): number {
  const { user, system } = groupCpu(pgid);
  return user + system;
}

/** groupCpuMs split: user and system (kernel: syscalls, loopback TCP) CPU time in ms. */
export function groupCpu(pgid: number): { user: number; system: number } {
  let user = 0;
  let system = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone between the listing and the read
    }
    // The command name (field 2) is in parentheses and may hold spaces or ')': fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15 (proc(5)).
    if (Number(fields[2]) !== pgid) continue;
    user += Number(fields[11]);
    system += Number(fields[12]);
  }
  return { user: (user * 1000) / TICKS_PER_SECOND, system: (system * 1000) / TICKS_PER_SECOND };
}

/** This process's own user + system CPU time in ms (the load generator runs here). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
