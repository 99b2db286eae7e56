-- Ingest's dedupe memory of one customer (services/ingest/src/dedupe.ts, docs/ingest.md).
-- KEYS[1] `ts:{c:<id>}:seen`, one string:
--   4 bytes    length S of the settled region (big-endian)
--   S bytes    settled ids, oldest first, 18 bytes each: 2-byte time bucket
--              (floor(ms / bucketMs) mod 65536), then the event id's 16-byte digest
--   the rest   claims not settled yet: 16-byte digest, 6-byte deadline (ms),
--              2-byte marker length, the marker
-- ARGV: op (claim | settle | release), horizon in buckets, bucketMs, then per op:
--   claim   digest, marker, ttlMs (repeated): returns per digest false (claimed now),
--           'seen' (settled within the horizon) or the live claim's marker
--   settle  digest (repeated): the ids become settled entries, their claims go
--   release marker, digest (repeated): removes those claims held by that marker
-- Time is Redis's own clock, as the TTLs of the layout before this one.
local ENTRY, DIGEST = 18, 16
local floor, byte, char, sub, find = math.floor, string.byte, string.char, string.sub, string.find
local op, horizon, bucketMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000)
local nowAbs = floor(now / bucketMs)
local nowBucket = nowAbs % 65536

local stored = redis.call('GET', KEYS[1]) or ''
local changed = false
local settled, claims, held = '', {}, {}
if #stored > 0 then
  local a, b, c, d = byte(stored, 1, 4)
  local size = ((a * 256 + b) * 256 + c) * 256 + d
  settled = sub(stored, 5, 4 + size)
  local at = 5 + size
  while at <= #stored do
    local d1, d2, d3, d4, d5, d6, l1, l2 = byte(stored, at + DIGEST, at + DIGEST + 7)
    local deadline = ((((d1 * 256 + d2) * 256 + d3) * 256 + d4) * 256 + d5) * 256 + d6
    local after = at + DIGEST + 8 + l1 * 256 + l2
    if deadline > now then
      local digest, marker = sub(stored, at, at + DIGEST - 1), sub(stored, at + DIGEST + 8, after - 1)
      claims[#claims + 1] = { digest, deadline, marker }
      held[digest] = marker
    else
      changed = true
    end
    at = after
  end
  -- Entries are appended in time order: the expired ones are a prefix. An age of 2^15
  -- buckets or more is a bucket ahead of the clock (a clock stepped back): live.
  local from = 1
  while from <= #settled do
    local hi, lo = byte(settled, from, from + 1)
    local age = (nowBucket - hi * 256 - lo) % 65536
    if age <= horizon or age >= 32768 then break end
    from = from + ENTRY
  end
  if from > 1 then
    settled = sub(settled, from)
    changed = true
  end
end

-- A digest found at an entry's digest position (an unaligned match spans two entries).
local function isSettled(digest)
  local at = find(settled, digest, 1, true)
  while at do
    if (at - 1) % ENTRY == 2 then return true end
    at = find(settled, digest, at + 1, true)
  end
  return false
end

local out
if op == 'claim' then
  out = {}
  for i = 4, #ARGV, 3 do
    local digest = ARGV[i]
    if isSettled(digest) then
      out[#out + 1] = 'seen'
    elseif held[digest] then
      out[#out + 1] = held[digest]
    else
      claims[#claims + 1] = { digest, now + tonumber(ARGV[i + 2]), ARGV[i + 1] }
      held[digest] = ARGV[i + 1]
      changed = true
      out[#out + 1] = false
    end
  end
elseif op == 'settle' or op == 'release' then
  local first, marker = 4, nil
  if op == 'release' then first, marker = 5, ARGV[4] end
  local named = {}
  for i = first, #ARGV do named[ARGV[i]] = true end
  local kept = {}
  for _, c in ipairs(claims) do
    if named[c[1]] and (marker == nil or c[3] == marker) then changed = true else kept[#kept + 1] = c end
  end
  out = #claims - #kept
  claims = kept
  if op == 'settle' then
    local stamp, added = char(floor(nowBucket / 256), nowBucket % 256), {}
    for i = first, #ARGV do
      local digest = ARGV[i]
      if named[digest] and not isSettled(digest) then
        named[digest] = false
        added[#added + 1] = stamp .. digest
      end
    end
    if #added > 0 then
      settled = settled .. table.concat(added)
      changed = true
    end
    out = #added
  end
else
  return redis.error_reply('dedupe: unknown op ' .. tostring(op))
end

if changed then
  if #settled == 0 and #claims == 0 then
    redis.call('DEL', KEYS[1])
  else
    -- The key lives until its newest settled entry expires or its last claim ends.
    local n, expires = #settled, 0
    if n > 0 then
      local hi, lo = byte(settled, n - ENTRY + 1, n - ENTRY + 2)
      local age = (nowBucket - hi * 256 - lo) % 65536
      if age >= 32768 then age = 0 end
      expires = (nowAbs - age + horizon + 1) * bucketMs
    end
    local parts = { char(floor(n / 16777216) % 256, floor(n / 65536) % 256, floor(n / 256) % 256, n % 256), settled }
    for _, c in ipairs(claims) do
      local deadline, len = c[2], #c[3]
      local high = floor(deadline / 4294967296)
      parts[#parts + 1] = c[1]
        .. char(floor(high / 256) % 256, high % 256, floor(deadline / 16777216) % 256, floor(deadline / 65536) % 256, floor(deadline / 256) % 256, deadline % 256)
        .. char(floor(len / 256), len % 256)
        .. c[3]
      if deadline > expires then expires = deadline end
    end
    redis.call('SET', KEYS[1], table.concat(parts), 'PXAT', string.format('%d', expires))
  end
end
return out
