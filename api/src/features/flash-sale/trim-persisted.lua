--[[
  trim-persisted.lua: drops from a sale's stream what Postgres already holds.

  The reconciler acknowledges an entry only after its Postgres transaction
  committed, so every entry older than both the oldest one still pending
  (delivered, not yet acknowledged) and the first one never delivered is
  persisted. Those are removed; everything from there on stays.

  KEYS[1]  purchases stream
  ARGV[1]  the reconciler's consumer group

  Returns how many entries were removed (0 when the stream or group is missing).
]]

if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end

local function field(pairs, name)
  for i = 1, #pairs, 2 do
    if pairs[i] == name then
      return pairs[i + 1]
    end
  end
end

local group
for _, candidate in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  if field(candidate, 'name') == ARGV[1] then
    group = candidate
  end
end
if not group then
  return 0
end

local keep_from
if tonumber(field(group, 'pending')) > 0 then
  keep_from = redis.call('XPENDING', KEYS[1], ARGV[1])[2]
else
  local ms, seq = string.match(field(group, 'last-delivered-id'), '^(%d+)-(%d+)$')
  keep_from = ms .. '-' .. (tonumber(seq) + 1)
end
return redis.call('XTRIM', KEYS[1], 'MINID', keep_from)
