--[[
  Writes one customer's record if nobody else wrote it since we read it (compare and set
  on the applied-offset fence), so a zombie worker of a revoked partition cannot
  overwrite newer state.

  Input:
    KEYS[1] customer state hash (ts:{c:<id>}:state)
    ARGV[1] the fence we read ('' when the customer was new)
    ARGV[2] the new fence ('<partition>:<offset>' of the last applied event)
    ARGV[3] the new state (customer-record-codec.ts), opaque here
    ARGV[4] the batch's pending transitions and rejections ('' when none)
    ARGV[5] the batch's token ('<partition>:<first offset>-<last offset>'): settlePending
            removes ARGV[4] once that batch's Kafka transaction has committed

  Output:
     1  written
    -1  the stored fence differs from ARGV[1] (someone else wrote): nothing written
]]
local current = redis.call('HGET', KEYS[1], 'fence')
if (current or '') ~= ARGV[1] then
  return -1
end
redis.call('HSET', KEYS[1], 'fence', ARGV[2], 'record', ARGV[3])
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[1], 'pending', 'pbatch')
else
  redis.call('HSET', KEYS[1], 'pending', ARGV[4], 'pbatch', ARGV[5])
end
return 1
