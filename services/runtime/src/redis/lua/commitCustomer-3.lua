--[[
  Writes one customer's record if nobody else wrote it since we read it (compare and set
  on the applied-offset fence), so a zombie worker of a revoked partition cannot
  overwrite newer state.

  Input (three keys of one customer, one hash tag, so one slot):
    KEYS[1] the record (ts:{c:<id>}:record): a string, '<fence>|<record bytes>'
    KEYS[2] the pending transitions (ts:{c:<id>}:pending): '<batch token>|<bytes>', only while pending
    KEYS[3] the hash of the layout before (ts:{c:<id>}:state): its 'fence' counts while
            KEYS[1] does not exist, and it is deleted by the first write of the new layout
    ARGV[1] the fence we read ('' when the customer was new)
    ARGV[2] the new fence ('<partition>:<offset>' of the last applied event)
    ARGV[3] the new state (customer-record-codec.ts), opaque here
    ARGV[4] the batch's pending transitions and rejections ('' when none)
    ARGV[5] the batch's token ('<partition>:<first offset>-<last offset>'): settlePending
            removes KEYS[2] once that batch's Kafka transaction has committed

  Output:
     1  written
    -1  the stored fence differs from ARGV[1] (someone else wrote): nothing written
]]
-- A fence is at most 26 bytes: the head holds it and its bar, never the whole record.
local head = redis.call('GETRANGE', KEYS[1], 0, 63)
local current
if head ~= '' then
  local bar = string.find(head, '|', 1, true)
  if not bar then
    return redis.error_reply('customer record ' .. KEYS[1] .. ' has no fence')
  end
  current = string.sub(head, 1, bar - 1)
else
  current = redis.call('HGET', KEYS[3], 'fence') or ''
end
if current ~= ARGV[1] then
  return -1
end
redis.call('SET', KEYS[1], ARGV[2] .. '|' .. ARGV[3])
if ARGV[4] == '' then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[5] .. '|' .. ARGV[4])
end
if head == '' then
  redis.call('DEL', KEYS[3])
end
return 1
