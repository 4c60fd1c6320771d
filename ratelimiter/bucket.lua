-- Token buckets of one descriptor, checked and spent all-or-nothing.
-- KEYS: the buckets (one hash tag, so one slot on Redis Cluster).
-- ARGV[1]: decimal numbers separated by spaces: hits (0 only reads), then per key: burst,
-- requests, window_ms (one argument: fewer to pack and parse per call on the client).
-- Levels are kept in exact integers: one token = window_ms units, refilled at `requests` units
-- per millisecond of Redis server time. A missing key is a full bucket, which is why a bucket
-- expires exactly when it would be full again.
-- Returns {admitted (0/1), then per key: whole tokens left, ms until full, ms until admissible}.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local spec = {}
for n in string.gmatch(ARGV[1], '%d+') do
  spec[#spec + 1] = tonumber(n)
end
local hits = spec[1]
local levels = {}
local admitted = 1
for i = 1, #KEYS do
  local a = 2 + (i - 1) * 3
  local burst, requests, window = spec[a], spec[a + 1], spec[a + 2]
  local full = burst * window
  local level = full
  local saved = redis.call('HMGET', KEYS[i], 'v', 't')
  if saved[1] then
    -- a failed-over primary's clock may be behind: never refill backwards
    local elapsed = math.max(0, now - tonumber(saved[2]))
    elapsed = math.min(elapsed, math.ceil(full / requests))
    level = math.min(full, tonumber(saved[1]) + elapsed * requests)
  end
  levels[i] = level
  if level < hits * window then
    admitted = 0
  end
end
local out = {admitted}
for i = 1, #KEYS do
  local a = 2 + (i - 1) * 3
  local burst, requests, window = spec[a], spec[a + 1], spec[a + 2]
  local full = burst * window
  local level = levels[i]
  if admitted == 1 and hits > 0 then
    level = level - hits * window
    redis.call('HSET', KEYS[i], 'v', string.format('%.0f', level), 't', string.format('%.0f', now))
    redis.call('PEXPIRE', KEYS[i], math.ceil((full - level) / requests))
  end
  local wait = 0
  if admitted == 0 and level < hits * window then
    wait = math.ceil((hits * window - level) / requests)
  end
  out[#out + 1] = math.floor(level / window)
  out[#out + 1] = math.ceil((full - level) / requests)
  out[#out + 1] = wait
end
return out
