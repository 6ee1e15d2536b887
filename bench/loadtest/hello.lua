-- wrk script for the bare "hello" baseline: GET, count non-200s, print the same LOADTEST line as
-- sessions.lua (wrk's own latency figures, in ms).

function response(status, headers, body)
  if status ~= 200 then bad = (bad or 0) + 1 end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local nbad = 0
  for _, thread in ipairs(threads) do nbad = nbad + (thread:get("bad") or 0) end
  local e = summary.errors
  io.write(string.format(
    'LOADTEST {"seconds":%.3f,"requests":%d,"hops":%d,"non200":%d,"bad":0,"sessions":0,'
      .. '"socket_errors":%d,"timeouts":%d,"p50":%.3f,"p90":%.3f,"p99":%.3f,"p999":%.3f,'
      .. '"max":%.3f,"submit_p50":0,"submit_p99":0,"submit_n":0,"first_bad":""}\n',
    summary.duration / 1e6, summary.requests, summary.requests, nbad + e.status,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
end
