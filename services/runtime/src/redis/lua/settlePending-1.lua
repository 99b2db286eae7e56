--[[
  Forgets a batch's pending transitions and rejections once its Kafka transaction has
  committed: nothing will replay that batch, so they are dead weight. Only the pending a
  batch with this token wrote: a later batch's are left alone.

  Input:
    KEYS[1] customer state hash (ts:{c:<id>}:state)
    ARGV[1] the batch's token, as commitCustomer stored it in 'pbatch'

  Output:
     1  removed
     0  nothing pending from that batch (none, or a later batch's)
]]
if redis.call('HGET', KEYS[1], 'pbatch') ~= ARGV[1] then
  return 0
end
redis.call('HDEL', KEYS[1], 'pending', 'pbatch')
return 1
