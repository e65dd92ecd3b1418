--[[
  status.lua: one consistent read of a sale and of this server's clock.

  KEYS[1]  sale hash (see purchase.lua)
  KEYS[2]  the sale's closed marker
  Returns {product, total, remaining, start_ms, end_ms, now_ms, closed}; the
  first five are nil when the sale does not exist, closed is nil while the
  sale is open, and now_ms is always there (the
  sale command uses it to place a new sale's window on this clock). Running
  as a script means stock and clock are read at one instant, never in the
  middle of a purchase.
]]

local sale = redis.call('HMGET', KEYS[1], 'product', 'total', 'remaining', 'start_ms', 'end_ms')
local time = redis.call('TIME')
sale[6] = time[1] .. string.format('%03d', math.floor(tonumber(time[2]) / 1000))
if redis.call('EXISTS', KEYS[2]) == 1 then
  sale[7] = '1'
end
return sale
