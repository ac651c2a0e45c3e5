-- wrk script: POST chat completions, one request line per user, round robin.
--
-- wrk -t1 -c32 -d5s -s bench/chat.lua http://127.0.0.1:PORT -- PLAN_FILE
--
-- PLAN_FILE (written by bench/wrk.ts):
--   line 1: the request path
--   line 2: the JSON body (one line)
--   line 3…: "<authorization header value>\t<x-wattfare-user or empty>"
-- done() prints one JSON line with the counts and the latency quantiles,
-- so that runs can be merged.

QUANTILES = 2000

local requests = {}
local count = 0
local index = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  local path = file:read("*l")
  local body = file:read("*l")
  for line in file:lines() do
    local auth, user = line:match("^([^\t]*)\t?(.*)$")
    if auth and auth ~= "" then
      local headers = {
        ["authorization"] = auth,
        ["content-type"] = "application/json",
      }
      if user ~= "" then headers["x-wattfare-user"] = user end
      count = count + 1
      requests[count] = wrk.format("POST", path, headers, body)
    end
  end
  file:close()
  index = math.random(count) - 1
end

function request()
  index = index % count + 1
  return requests[index]
end

function done(summary, latency, _)
  -- This wrk's stats object cannot be indexed per microsecond, so the
  -- distribution goes out as its quantiles, every 0.05 %.
  local quantiles = {}
  for i = 1, QUANTILES do
    quantiles[i] = string.format("%d", latency:percentile(i * 100 / QUANTILES))
  end
  local e = summary.errors
  io.write(string.format(
    '{"wrk":true,"requests":%d,"durationUs":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"quantilesUs":[%s]}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(quantiles, ",")))
end
