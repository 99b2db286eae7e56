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
local op, horizon, bucketMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowAbs = math.floor(now / bucketMs)
local nowBucket = nowAbs % 65536

local floor, byte, char, sub = math.floor, string.byte, string.char, string.sub
local function u2(s, at)
  local a, b = byte(s, at, at + 1)
  return a * 256 + b
end
local function u4(s, at)
  local a, b, c, d = byte(s, at, at + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end
local function u6(s, at) return u2(s, at) * 4294967296 + u4(s, at + 2) end
local function p2(v) return char(floor(v / 256) % 256, v % 256) end
local function p4(v) return char(floor(v / 16777216) % 256, floor(v / 65536) % 256, floor(v / 256) % 256, v % 256) end
local function p6(v) return p2(floor(v / 4294967296)) .. p4(v % 4294967296) end
-- An age of 2^15 buckets or more is a bucket ahead of the clock (a clock stepped back): live.
local function age(s, at)
  local a = (nowBucket - u2(s, at)) % 65536
  if a >= 32768 then return 0 end
  return a
end

local stored = redis.call('GET', KEYS[1]) or ''
local changed = false
local settled, claims, held = '', {}, {}
if #stored > 0 then
  local size = u4(stored, 1)
  settled = sub(stored, 5, 4 + size)
  local at = 5 + size
  while at <= #stored do
    local digest = sub(stored, at, at + DIGEST - 1)
    local deadline = u6(stored, at + DIGEST)
    local len = u2(stored, at + DIGEST + 6)
    local marker = sub(stored, at + DIGEST + 8, at + DIGEST + 7 + len)
    at = at + DIGEST + 8 + len
    if deadline > now then
      claims[#claims + 1] = { digest, deadline, marker }
      held[digest] = marker
    else
      changed = true
    end
  end
  -- Entries are appended in time order: the expired ones are a prefix.
  local from = 1
  while from <= #settled and age(settled, from) > horizon do from = from + ENTRY end
  if from > 1 then
    settled = sub(settled, from)
    changed = true
  end
end

-- A digest found at an entry's digest position (an unaligned match spans two entries).
local function isSettled(digest)
  local at = string.find(settled, digest, 1, true)
  while at do
    if (at - 1) % ENTRY == 2 then return true end
    at = string.find(settled, digest, at + 1, true)
  end
  return false
end

local function dropClaims(keep)
  local kept = {}
  held = {}
  for _, c in ipairs(claims) do
    if keep(c) then
      kept[#kept + 1] = c
      held[c[1]] = c[3]
    else
      changed = true
    end
  end
  claims = kept
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
elseif op == 'settle' then
  local stamp, fresh, added = p2(nowBucket), {}, {}
  for i = 4, #ARGV do fresh[ARGV[i]] = true end
  dropClaims(function(c) return not fresh[c[1]] end)
  for i = 4, #ARGV do
    local digest = ARGV[i]
    if fresh[digest] and not isSettled(digest) then
      fresh[digest] = false
      added[#added + 1] = stamp .. digest
    end
  end
  if #added > 0 then
    settled = settled .. table.concat(added)
    changed = true
  end
  out = #added
elseif op == 'release' then
  local marker, before = ARGV[4], #claims
  local mine = {}
  for i = 5, #ARGV do mine[ARGV[i]] = true end
  dropClaims(function(c) return not (mine[c[1]] and c[3] == marker) end)
  out = before - #claims
else
  return redis.error_reply('dedupe: unknown op ' .. tostring(op))
end

if changed then
  if #settled == 0 and #claims == 0 then
    redis.call('DEL', KEYS[1])
  else
    -- The key lives until its newest settled entry expires or its last claim ends.
    local expires = 0
    if #settled > 0 then expires = (nowAbs - age(settled, #settled - ENTRY + 1) + horizon + 1) * bucketMs end
    local parts = { p4(#settled), settled }
    for _, c in ipairs(claims) do
      parts[#parts + 1] = c[1] .. p6(c[2]) .. p2(#c[3]) .. c[3]
      if c[2] > expires then expires = c[2] end
    end
    redis.call('SET', KEYS[1], table.concat(parts), 'PXAT', string.format('%d', expires))
  end
end
return out
