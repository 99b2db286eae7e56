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
 * Registers every script with ioredis's defineCommand, versioned (`name:version`) so two
 * releases on one Redis never run each other's code; ioredis sends EVALSHA and falls
 * back to EVAL once when the script cache is empty (after a Redis restart).
 */
export function defineLuaScripts(redis: Redis, version: string, scripts: readonly LuaScript[] = readLuaScripts()): Set<string> {
  const defined = new Set<string>();
  for (const s of scripts) {
    const command = `${s.name}_${version.replace(/[^a-zA-Z0-9]/g, '_')}`;
    if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: s.numberOfKeys, lua: s.source });
    defined.add(s.name);
  }
  return defined;
}
