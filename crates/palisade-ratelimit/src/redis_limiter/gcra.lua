-- GCRA over several limits, all-or-nothing, on Redis's own clock (one clock for every
-- instance, whatever their skew). Times are microseconds, as Lua numbers (doubles: exact to
-- 2^53, so current epoch microseconds keep sub-microsecond precision).
--
-- KEYS[i]      the state (theoretical arrival time) of limit i for one client
-- ARGV[1]      how many requests to count at once (n)
-- ARGV[1 + i]  limit i's emission interval t: period / count
-- ARGV[1+L+i]  limit i's tolerance tau: t * (burst - 1)
--
-- Returns {1, full_in_1, ..., full_in_L} when admitted (microseconds until each limit is full
-- again), or {0, wait, i} when limit i refuses for `wait` microseconds. A refusal writes
-- nothing. Each written key expires when its limit has refilled, so idle clients cost nothing.
local n = tonumber(ARGV[1])
local count = #KEYS
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local next_tats = {}
local worst_wait, worst = -1, 0
for i = 1, count do
  local t = tonumber(ARGV[1 + i])
  local tau = tonumber(ARGV[1 + count + i])
  local extra = t * (n - 1)
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  local earliest = tat + extra - tau
  if now < earliest then
    if earliest - now > worst_wait then
      worst_wait, worst = earliest - now, i
    end
  else
    next_tats[i] = math.max(tat, now) + t + extra
  end
end
if worst > 0 then
  return {0, math.ceil(worst_wait), worst}
end
local reply = {1}
for i = 1, count do
  local full_in = next_tats[i] - now
  redis.call('SET', KEYS[i], string.format('%.3f', next_tats[i]), 'PX', math.ceil(full_in / 1000))
  reply[i + 1] = math.ceil(full_in)
end
return reply
