import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';

/** Scripts live beside this module's source, also when running from dist/. */
export const LUA_DIR = path.resolve(__dirname, '..', '..', 'src', 'redis', 'lua');

export interface LuaScript {
  /** File name without `-<numKeys>.lua`, e.g. `commitCustomer`. */
  readonly name: string;
  readonly numberOfKeys: number;
  readonly source: string;
}

/** Reads `<name>-<numKeys>.lua` files (BullMQ's convention: the key count is in the name). */
export function readLuaScripts(dir = LUA_DIR): LuaScript[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.lua'))
    .map((file) => {
      const m = /^([a-zA-Z]+)-(\d+)\.lua$/.exec(file);
      if (!m?.[1] || !m[2]) throw new Error(`lua script ${file} must be named <name>-<numKeys>.lua`);
      return { name: m[1], numberOfKeys: Number(m[2]), source: fs.readFileSync(path.join(dir, file), 'utf8') };
    });
}

/**
 * Every script and its version, bumped whenever the script or its arguments change: the
 * command is `<name>_<version>`, so two releases on one Redis never run each other's code
 * (ioredis sends EVALSHA of the source, and EVAL once when Redis lost its script cache).
 */
export const SCRIPT_VERSIONS = {
  commitCustomer: '3',
  settlePending: '2',
  dedupe: 'd2',
} as const;

export type ScriptName = keyof typeof SCRIPT_VERSIONS;

type Pipeline = ReturnType<Redis['pipeline']>;
type ScriptCall = (...args: (string | Buffer)[]) => unknown;

/** One customer's keys that commitCustomer touches (RedisKeys builds them with the customer's hash tag). */
export interface CustomerKeys {
  readonly record: string;
  readonly pending: string;
  readonly stateHash: string;
}

/** What `commitCustomer` answered for one customer. */
export type CommitReply = 'written' | 'fence-moved';

/** A reply no version of the script gives: Redis runs another script under its name, or a bug. */
export class ScriptReplyError extends Error {
  constructor(
    readonly script: ScriptName,
    readonly reply: unknown,
  ) {
    super(`redis script ${script}_${SCRIPT_VERSIONS[script]} answered ${JSON.stringify(reply)}`);
    this.name = 'ScriptReplyError';
  }
}

/**
 * The only caller of tierstream's Lua scripts (as BullMQ's Scripts class is of its own): one
 * typed method per script that queues it on a pipeline with its arguments in order, and one
 * per reply shape that maps the script's codes to values. A script that is not defined is an
 * error, never a silent no-op. Each script touches the keys of one hash slot (Redis Cluster).
 */
export class RedisScripts {
  constructor(redis: Redis, scripts: readonly LuaScript[] = readLuaScripts()) {
    for (const name of Object.keys(SCRIPT_VERSIONS) as ScriptName[]) {
      const script = scripts.find((s) => s.name === name);
      if (!script) throw new Error(`redis script ${name} has no file ${name}-<numKeys>.lua in ${LUA_DIR}`);
      const command = `${name}_${SCRIPT_VERSIONS[name]}`;
      if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: script.numberOfKeys, lua: script.source });
    }
  }

  /**
   * commitCustomer-3.lua: writes a customer's fence, state and pending transitions if the
   * stored fence is `expectedFence` (compare and set), and removes the customer's hash of the
   * layout before. `pending` null: none. The keys are one customer's (one hash tag).
   */
  commitCustomer(pipeline: Pipeline, keys: CustomerKeys, expectedFence: string, newFence: string, record: Buffer, pending: Buffer | null, batch: string): void {
    this.call(pipeline, 'commitCustomer')(keys.record, keys.pending, keys.stateHash, expectedFence, newFence, record, pending ?? '', batch);
  }

  static commitReply(reply: unknown): CommitReply {
    if (reply === 1) return 'written';
    if (reply === -1) return 'fence-moved';
    throw new ScriptReplyError('commitCustomer', reply);
  }

  /** settlePending-1.lua: removes the pending transitions batch `batch` wrote, if they are still there. */
  settlePending(pipeline: Pipeline, pendingKey: string, batch: string): void {
    this.call(pipeline, 'settlePending')(pendingKey, batch);
  }

  /** Whether settlePending removed anything. */
  static settleReply(reply: unknown): boolean {
    if (reply === 1) return true;
    if (reply === 0) return false;
    throw new ScriptReplyError('settlePending', reply);
  }

  /** dedupe-1.lua: one operation (`claim`, `settle`, `release`) on a customer's dedupe memory; its replies are ingest's (services/ingest/src/dedupe.ts). */
  dedupe(pipeline: Pipeline, seenKey: string, op: 'claim' | 'settle' | 'release', horizonBuckets: string, bucketMs: string, args: readonly (string | Buffer)[]): void {
    this.call(pipeline, 'dedupe')(seenKey, op, horizonBuckets, bucketMs, ...args);
  }

  private call(pipeline: Pipeline, name: ScriptName): ScriptCall {
    // defineCommand adds the command at run time; ioredis's types cannot know it.
    const call = (pipeline as unknown as Record<string, ScriptCall | undefined>)[`${name}_${SCRIPT_VERSIONS[name]}`];
    if (!call) throw new Error(`redis script ${name}_${SCRIPT_VERSIONS[name]} is not defined on this client`);
    return call.bind(pipeline);
  }
}
