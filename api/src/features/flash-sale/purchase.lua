--[[
  purchase.lua: the single place where a purchase is decided.

  One call decides a round of purchases for one sale (sale-rounds.ts), in the
  order given, exactly as that many calls one after the other would: the
  script is atomic, and every purchase in it is judged at the same instant.

  KEYS (all share the sale's hash tag, so they live on one Cluster slot):
    KEYS[1]  sale hash      fields: start_ms, end_ms, total, remaining, product
    KEYS[2]  buyers hash    field = normalised buyer id, value = "<purchaseId>|<purchasedAtMs>|<unit>"
    KEYS[3]  purchases stream, consumed by the reconciler
    KEYS[4]  the closed marker: set once the sale is closed for good (replaced,
             or over and settling), by whoever may close it (flash-sale.redis.ts)
    KEYS[4+i]  the attempt counter of the i-th buyer (named by a digest of the buyer id)
  ARGV:
    ARGV[1]  attempts allowed per buyer per window
    ARGV[2]  window length in milliseconds
    then three per purchase, the i-th at ARGV[3i], ARGV[3i+1], ARGV[3i+2]:
      buyer id, already normalised by the API (a hash field, never a key name);
      purchase id (UUID) to use if the purchase is confirmed;
      the purchase's trace (W3C traceparent) if it is sampled, else '':
      carried in the stream entry so the reconciler continues the trace

  Returns one reply per purchase, in order, each an array whose first element
  names the outcome:
    {'CONFIRMED', purchaseId, purchasedAtMs, unit}
    {'ALREADY_PURCHASED', purchaseId, purchasedAtMs}
    {'RATE_LIMITED', retryAfterMs}
    {'SALE_NOT_ACTIVE', nowMs}
    {'SOLD_OUT'}
    {'NO_SALE'}

  Precedence (PURCHASE_PRECEDENCE in flash-sale.logic.ts, which a test checks
  against the order of the returns below): already purchased > rate limited >
  not active > sold out, so a buyer retrying after a timeout always learns
  what they got, whenever they ask.

  The window is judged by this server's clock (TIME), end exclusive, so every
  API replica agrees. A sale closed with stock left (replaced, or closed at
  its end) is not active whatever the clock says; a sold-out one answers
  SOLD_OUT until its window ends, closed or not. Apart from the attempt
  counter (a fixed window that expires by itself), every check happens before
  any write; a confirmed purchase decrements stock, records the buyer and
  appends to the stream in one atomic step. Invariants kept:
    0 <= remaining <= total
    remaining + HLEN(buyers) <= total (equal unless a rebuild from Postgres
      skipped units that were lost: see flash-sale.admin.ts)
    units are handed out in order and never twice
    one stream entry per buyer
]]

local sale = redis.call('HMGET', KEYS[1], 'start_ms', 'end_ms', 'total', 'remaining')
local time = redis.call('TIME')
local now_text = time[1] .. string.format('%03d', math.floor(tonumber(time[2]) / 1000))
local now = tonumber(now_text)
local closed = redis.call('EXISTS', KEYS[4]) == 1
local remaining = tonumber(sale[4])

local function decide(buyer, purchase_id, traceparent, attempts_key)
  if not sale[1] then
    return {'NO_SALE'}
  end

  local previous = redis.call('HGET', KEYS[2], buyer)
  if previous then
    local previous_id, purchased_at = string.match(previous, '^([^|]+)|(%d+)|')
    return {'ALREADY_PURCHASED', previous_id, purchased_at}
  end

  local attempts = redis.call('INCR', attempts_key)
  if attempts == 1 then
    redis.call('PEXPIRE', attempts_key, ARGV[2])
  end
  if attempts > tonumber(ARGV[1]) then
    return {'RATE_LIMITED', redis.call('PTTL', attempts_key)}
  end

  if now < tonumber(sale[1]) or now >= tonumber(sale[2]) or (closed and remaining > 0) then
    return {'SALE_NOT_ACTIVE', now_text}
  end
  if remaining <= 0 then
    return {'SOLD_OUT'}
  end

  local unit = tonumber(sale[3]) - remaining + 1
  remaining = remaining - 1
  -- Stock first, for each unit: a script that fails part way keeps what it
  -- wrote, and stock taken without a buyer undersells where the reverse oversells.
  redis.call('HSET', KEYS[1], 'remaining', remaining)
  redis.call('HSET', KEYS[2], buyer, purchase_id .. '|' .. now_text .. '|' .. unit)
  if traceparent == '' then
    redis.call('XADD', KEYS[3], '*',
      'purchase_id', purchase_id, 'user_id', buyer, 'unit', unit, 'purchased_at_ms', now_text)
  else
    redis.call('XADD', KEYS[3], '*',
      'purchase_id', purchase_id, 'user_id', buyer, 'unit', unit, 'purchased_at_ms', now_text, 'traceparent', traceparent)
  end
  return {'CONFIRMED', purchase_id, now_text, unit}
end

local replies = {}
for i = 1, #KEYS - 4 do
  replies[i] = decide(ARGV[3 * i], ARGV[3 * i + 1], ARGV[3 * i + 2], KEYS[4 + i])
end
return replies
