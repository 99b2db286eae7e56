import { RedisKeys } from './keys';
import { readLuaScripts, RedisScripts, ScriptReplyError, SCRIPT_VERSIONS } from './redis-scripts';

describe('RedisScripts', () => {
  it('has a version for every Lua file and a file for every version, named <name>-<numKeys>.lua', () => {
    const files = readLuaScripts();
    expect(files.map((s) => s.name).sort()).toEqual(Object.keys(SCRIPT_VERSIONS).sort());
    expect(Object.fromEntries(files.map((s) => [s.name, s.numberOfKeys]))).toEqual({ commitCustomer: 3, settlePending: 1, dedupe: 1 });
  });

  it('passes each script the keys of one customer only, all with its hash tag (one slot: the layout runs on Redis Cluster)', () => {
    const calls: { command: string; args: unknown[] }[] = [];
    const pipeline = new Proxy({}, { get: (_t, command: string) => (...args: unknown[]) => calls.push({ command, args }) }) as unknown as Parameters<RedisScripts['settlePending']>[0];
    const fake = { defineCommand: () => undefined } as unknown as ConstructorParameters<typeof RedisScripts>[0];
    const scripts = new RedisScripts(fake);
    const keys = new RedisKeys('ns.');
    scripts.commitCustomer(pipeline, { record: keys.customerRecord('c{1}'), pending: keys.customerPending('c{1}'), stateHash: keys.customerStateHash('c{1}') }, '', '0:1', Buffer.from('T'), null, '0:0-1');
    scripts.settlePending(pipeline, keys.customerPending('c{1}'), '0:0-1');
    scripts.dedupe(pipeline, keys.customerSeen('c{1}'), 'claim', '7', '86400000', []);
    const files = new Map(readLuaScripts().map((s) => [s.name, s.numberOfKeys]));
    for (const { command, args } of calls) {
      const keyArgs = args.slice(0, files.get(command.replace(/_.*$/, '')) ?? 0) as string[];
      expect(keyArgs.length).toBeGreaterThan(0);
      // Redis hashes the part between the first { and the next }.
      expect(new Set(keyArgs.map((k) => /\{([^}]*)\}/.exec(k)?.[1]))).toEqual(new Set(['c:c{1']));
    }
    expect(calls.map((c) => c.command)).toEqual(['commitCustomer_3', 'settlePending_2', `dedupe_${SCRIPT_VERSIONS.dedupe}`]);
  });

  it('maps commitCustomer and settlePending replies to values, and any other reply to ScriptReplyError', () => {
    expect(RedisScripts.commitReply(1)).toBe('written');
    expect(RedisScripts.commitReply(-1)).toBe('fence-moved');
    expect(() => RedisScripts.commitReply(0)).toThrow(ScriptReplyError);
    expect(() => RedisScripts.commitReply('OK')).toThrow(/commitCustomer_3 answered "OK"/);
    expect(RedisScripts.settleReply(1)).toBe(true);
    expect(RedisScripts.settleReply(0)).toBe(false);
    expect(() => RedisScripts.settleReply(null)).toThrow(ScriptReplyError);
  });

  it('refuses a script list that lacks one it needs, naming it', () => {
    const fake = { defineCommand: () => undefined } as unknown as ConstructorParameters<typeof RedisScripts>[0];
    expect(() => new RedisScripts(fake, readLuaScripts().filter((s) => s.name !== 'settlePending'))).toThrow(/settlePending/);
  });
});
