import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type { Redis } from '@tierstream/runtime';
import { REPO_ROOT } from '@tierstream/cli/dist/stack/settings';

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
  /** The checkout: its commit and the files under services/ that differ from it (what the worker was built from). */
  readonly git: { readonly commit: string | null; readonly changedServiceFiles: string[] | null };
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const status = git(['status', '--porcelain', '--', 'services']);
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    git: {
      commit: git(['rev-parse', 'HEAD']),
      changedServiceFiles: status === null ? null : status.split('\n').filter((l) => l.trim() !== '').map((l) => l.trim()),
    },
  };
}

/** Whole-machine CPU time from /proc/stat (Linux), in clock ticks: busy (steal excluded), stolen by the hypervisor, total. */
export interface CpuTimes {
  readonly busy: number;
  readonly steal: number;
  readonly total: number;
}

export function machineCpu(): CpuTimes | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const steal = fields[7] ?? 0;
    return { busy: total - idle - steal, steal, total };
  } catch {
    return undefined;
  }
}

/** The share of all cores busy between two readings (0..1). */
export const busyShare = (a: CpuTimes | undefined, b: CpuTimes | undefined): number | null => (a && b && b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : null);

/** The share of all cores' time the hypervisor gave to other guests between two readings (0..1). */
export const stealShare = (a: CpuTimes | undefined, b: CpuTimes | undefined): number | null => (a && b && b.total > a.total ? (b.steal - a.steal) / (b.total - a.total) : null);

/** Fields of Redis INFO (all sections). */
export async function redisInfo(redis: Redis): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await redis.info()).split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Redis CPU seconds (server and its forked children, e.g. AOF rewrites). */
export const redisCpuSeconds = (info: Record<string, string>): { server: number; children: number } => ({
  server: Number(info['used_cpu_sys'] ?? 0) + Number(info['used_cpu_user'] ?? 0),
  children: Number(info['used_cpu_sys_children'] ?? 0) + Number(info['used_cpu_user_children'] ?? 0),
});
