-- wrk script for scripts/bench-server: every request PUTs a fresh 4 KiB body as version 1 of a NEW
-- record id (thread number + per-thread counter), so each one is a real durable append.
--   wrk ... -s upload.lua https://127.0.0.1:PORT -- PATH_PREFIX TOKEN [BODY_BYTES]
-- PATH_PREFIX is /v1/patients/{pid}/records/. Counts responses that are not 201 Created.
local threads = {}
local next_id = 0

setup = function(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

local prefix, body, headers
local counter = 0
-- Globals, not locals: done() reads them from each thread with thread:get().
created, other = 0, 0

init = function(args)
  prefix = args[1]
  if prefix == nil or args[2] == nil then
    error("usage: wrk ... -s upload.lua URL -- PATH_PREFIX TOKEN [BODY_BYTES]")
  end
  local size = tonumber(args[3] or "4096")
  -- Not compressible and not all one byte: a pseudo-random body, the same for every request.
  local parts = {}
  local x = 12345 + tid
  for i = 1, size do
    x = (x * 1103515245 + 12345) % 2147483648
    parts[i] = string.char(math.floor(x / 65536) % 256)
  end
  body = table.concat(parts)
  headers = {
    ["Authorization"] = "Bearer " .. args[2],
    ["Content-Type"] = "application/octet-stream",
    ["X-CipherChart-Section"] = "vital-signs",
    ["X-CipherChart-Policy"] = "doctor",
  }
end

request = function()
  counter = counter + 1
  return wrk.format("PUT", string.format("%sw%d-%d/versions/1", prefix, tid, counter), headers, body)
end

response = function(status, hdrs, resp_body)
  if status == 201 then created = created + 1 else other = other + 1 end
end

done = function(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d,"status_errors":%d,"created":%d,"not_created":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
    c, o, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
