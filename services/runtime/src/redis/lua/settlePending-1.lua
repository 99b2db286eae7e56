--[[
  Forgets a batch's pending transitions and rejections once its Kafka transaction has
  committed: nothing will replay that batch, so they are dead weight. Only the pending a
  batch with this token wrote: a later batch's are left alone.

  Input:
    KEYS[1] the customer's pending transitions (ts:{c:<id>}:pending): '<batch token>|<bytes>'
    ARGV[1] the batch's token, as commitCustomer stored it

  Output:
     1  removed
     0  nothing pending from that batch (none, or a later batch's)
]]
-- A token is at most 45 bytes: the head holds it and its bar.
local head = redis.call('GETRANGE', KEYS[1], 0, 63)
local bar = string.find(head, '|', 1, true)
if not bar or string.sub(head, 1, bar - 1) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
