--[[
  close.lua: closes a sale for good. Once the closed field is set, purchase.lua
  confirms nothing more in it, whatever any clock says, so a sale whose closing
  has reached its replicas cannot sell again even after a failover to a node
  whose clock runs behind. The reconciler settles a sale only after this.

  KEYS[1]  sale hash (see purchase.lua)
  ARGV[1]  'now'      close it whatever its state (the operator replaced it)
           'if-done'  close it only if it can take no more purchases anyway:
                      its window has ended by this server's clock (end
                      exclusive, as purchase.lua judges it), or it is sold out

  Returns 1 when the sale is closed (now or before), 0 when it stays open, and
  -1 when there is no such sale.
]]

local sale = redis.call('HMGET', KEYS[1], 'end_ms', 'remaining', 'closed')
if not sale[1] then
  return -1
end
if sale[3] then
  return 1
end

local done = ARGV[1] == 'now' or tonumber(sale[2]) <= 0
if not done then
  local time = redis.call('TIME')
  local now = tonumber(time[1] .. string.format('%03d', math.floor(tonumber(time[2]) / 1000)))
  done = now >= tonumber(sale[1])
end
if not done then
  return 0
end
redis.call('HSET', KEYS[1], 'closed', '1')
return 1
