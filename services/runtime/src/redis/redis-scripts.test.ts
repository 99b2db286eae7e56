import { readLuaScripts, RedisScripts, ScriptReplyError, SCRIPT_VERSIONS } from './redis-scripts';

describe('RedisScripts', () => {
  it('has a version for every Lua file and a file for every version, named <name>-<numKeys>.lua with one key', () => {
    const files = readLuaScripts();
    expect(files.map((s) => s.name).sort()).toEqual(Object.keys(SCRIPT_VERSIONS).sort());
    // One key each: every script touches one hash slot, so the layout runs on Redis Cluster.
    expect(files.map((s) => [s.name, s.numberOfKeys])).toEqual(files.map((s) => [s.name, 1]));
  });

  it('maps commitCustomer and settlePending replies to values, and any other reply to ScriptReplyError', () => {
    expect(RedisScripts.commitReply(1)).toBe('written');
    expect(RedisScripts.commitReply(-1)).toBe('fence-moved');
    expect(() => RedisScripts.commitReply(0)).toThrow(ScriptReplyError);
    expect(() => RedisScripts.commitReply('OK')).toThrow(/commitCustomer_2 answered "OK"/);
    expect(RedisScripts.settleReply(1)).toBe(true);
    expect(RedisScripts.settleReply(0)).toBe(false);
    expect(() => RedisScripts.settleReply(null)).toThrow(ScriptReplyError);
  });

  it('refuses a script list that lacks one it needs, naming it', () => {
    const fake = { defineCommand: () => undefined } as unknown as ConstructorParameters<typeof RedisScripts>[0];
    expect(() => new RedisScripts(fake, readLuaScripts().filter((s) => s.name !== 'settlePending'))).toThrow(/settlePending/);
  });
});
