--[[
  Writes one customer's record if nobody else wrote it since we read it (compare and set
  on the applied-offset fence), so a zombie worker of a revoked partition cannot
  overwrite newer state.

  Input:
    KEYS[1] customer state hash (ts:{c:<id>}:state)
    ARGV[1] the fence we read ('' when the customer was new)
    ARGV[2] the new fence ('<partition>:<offset>' of the last applied event)
    ARGV[3] the new record (customer-record-codec.ts: state, pending transitions), opaque here

  Output:
     1  written
    -1  the stored fence differs from ARGV[1] (someone else wrote): nothing written
]]
local current = redis.call('HGET', KEYS[1], 'fence')
if (current or '') ~= ARGV[1] then
  return -1
end
redis.call('HSET', KEYS[1], 'fence', ARGV[2], 'record', ARGV[3])
return 1
