-- wrk script: every connection walks complete USSD report sessions, hop after hop, in order.
--
-- Run with one connection per thread (wrk -t N -c N): wrk keeps one Lua state per thread and does
-- not say which connection a response belongs to, so only then is "the next hop of this session"
-- well defined. Arguments after `--`:
--   mode        "service" (check every screen and the reference at the end), "minimal"
--               (the minimal-hop app: check 200 and "CON " only) or "flood" (one phone dials
--               new sessions as fast as it can: each must be answered 200 with a screen; after
--               its first rate_limits.ussd_sessions_per_hour, an END saying it is over the limit)
--   run         a word that makes session ids unique to this run
--   phones      a number 0-99, different for each run against one database: phones are unique
--               to it, so every session meets the language question as a new reporter does
--   think_ms    optional: 0 (default) sends the next hop at once (closed loop); otherwise the
--               open loop of `paced` below
--   reporters   with think_ms: reporters this connection carries (each hops every think_ms)
--
--   reporters   with think_ms: reporters this connection carries (each hops every think_ms)
--
-- Open loop (think_ms > 0): each reporter hops every think_ms, whatever the server does, and the
-- latency recorded is from when the hop was *due* to when its answer arrived, so a server that
-- falls behind is charged for the queue it builds (as wrk2 does; wrk's own figures would hide it).
-- Reporters arrive at random over the first session's length, so that after that warm-up their
-- sessions are spread evenly over all hops (dial, menus, typed answers, submit); only hops due
-- after the warm-up are counted.
--
-- done() prints one line, "LOADTEST {json}", that bench/loadtest/run.py reads.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } kuf_timespec;
  int clock_gettime(int clk_id, kuf_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("kuf_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- A complete French report: language, report an incident, accident, collapse, Sud-Kivu,
-- Mwenga, the site, today, the details, send. Ten answers, eleven hops with the dial.
local ANSWERS = { "2", "1", "1", "1", "4", "5", "Kamituga", "1", "Trois blesses", "1" }
local HOPS = #ANSWERS + 1

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- Per thread (= per connection) state.
local mode, run_id, phone_base, think_ms, nreporters
local reporters = {}  -- each: { session = n, hop = 1, due = ms }
local turn = 1        -- index of the reporter whose hop is in flight
local serial = 0      -- sessions started by this connection
local counted_from = 0
local due_at = 0
stats = { requests = 0, counted = 0, non200 = 0, bad = 0, sessions = 0, first_bad = "" }
latencies = {}        -- every hop, ms (open loop: from due time)
submit = {}           -- the last hop of each session, ms

local function new_session(r)
  serial = serial + 1
  r.session = serial
  r.hop = 1
end

function init(args)
  mode = args[1] or "service"
  run_id = args[2] or "run"
  phone_base = tonumber(args[3] or "0") or 0
  think_ms = tonumber(args[4] or "0") or 0
  nreporters = math.max(1, tonumber(args[5] or "1") or 1)
  if think_ms == 0 then nreporters = 1 end
  math.randomseed(tid * 7919 + phone_base)
  local start = now_ms()
  local spread = think_ms * HOPS
  for i = 1, nreporters do
    reporters[i] = { due = start + math.random() * spread }
    new_session(reporters[i])
  end
  counted_from = think_ms > 0 and start + spread or 0
end

local function next_reporter()
  local best = 1
  for i = 2, nreporters do
    if reporters[i].due < reporters[best].due then best = i end
  end
  return best
end

local function body_for(r)
  local inputs = {}
  for i = 1, r.hop - 1 do inputs[i] = ANSWERS[i] end
  local text = table.concat(inputs, "*")
  -- Unique per run, thread and session: a fresh phone (so every session asks the language,
  -- as a new reporter's does) and a fresh gateway session id.
  local n = phone_base * 1000000 + tid * 10000 + r.session % 10000
  local phone = string.format("+2438%08d", n)
  if mode == "flood" then
    phone = "+243899999999"  -- one number, whatever the thread
    text = ""
  end
  local session_id = string.format("ATUid_%s_%d_%d", run_id, tid, r.session)
  return "sessionId=" .. urlencode(session_id)
    .. "&serviceCode=" .. urlencode("*384*44135#")
    .. "&phoneNumber=" .. urlencode(phone)
    .. "&networkCode=63001"
    .. "&text=" .. urlencode(text)
end

function delay()
  if think_ms == 0 then return 0 end
  local wait = reporters[next_reporter()].due - now_ms()
  return wait > 0 and math.floor(wait) or 0
end

function request()
  local sent_at = now_ms()
  if think_ms > 0 then
    turn = next_reporter()
    local r = reporters[turn]
    due_at = math.min(r.due, sent_at)
    r.due = r.due + think_ms
  else
    due_at = sent_at
  end
  local r = reporters[turn]
  return wrk.format("POST", "/ussd/africastalking",
    { ["Content-Type"] = "application/x-www-form-urlencoded" }, body_for(r))
end

local function fail(r, status, body)
  stats.bad = stats.bad + 1
  if stats.first_bad == "" then
    stats.first_bad = string.format("session %s_%d_%d hop %d: %d %s", run_id, tid, r.session,
      r.hop, status, (body or ""):sub(1, 120))
  end
end

function response(status, headers, body)
  local elapsed = now_ms() - due_at
  local r = reporters[turn]
  stats.requests = stats.requests + 1
  local counted = due_at >= counted_from
  if counted then
    stats.counted = stats.counted + 1
    latencies[#latencies + 1] = elapsed
  end
  if status ~= 200 then
    stats.non200 = stats.non200 + 1
    fail(r, status, body)
    new_session(r)
    return
  end
  if mode == "flood" then
    if body:sub(1, 4) == "END " then
      stats.sessions = stats.sessions + 1  -- refused: over the limit
    elseif body:sub(1, 4) ~= "CON " then
      fail(r, status, body)
    end
    new_session(r)
    return
  end
  if mode == "minimal" then
    if body:sub(1, 4) ~= "CON " then fail(r, status, body) end
    r.hop = r.hop % HOPS + 1
    if r.hop == 1 then stats.sessions = stats.sessions + 1; new_session(r) end
    return
  end
  if r.hop < HOPS then
    if body:sub(1, 4) ~= "CON " then
      fail(r, status, body)
      new_session(r)
      return
    end
    r.hop = r.hop + 1
  else
    if counted then submit[#submit + 1] = elapsed end
    -- The END screen must carry the seven-digit reference.
    if body:sub(1, 4) == "END " and body:find("%d%d%d%d%d%d%d") then
      stats.sessions = stats.sessions + 1
    else
      fail(r, status, body)
    end
    new_session(r)
  end
end

local function percentile(values, p)
  if #values == 0 then return 0 end
  table.sort(values)
  local index = math.max(1, math.min(#values, math.ceil(p * #values)))
  return values[index]
end

function done(summary, latency, requests)
  local all, last = {}, {}
  local total = { requests = 0, counted = 0, non200 = 0, bad = 0, sessions = 0, first_bad = "" }
  for _, thread in ipairs(threads) do
    local s = thread:get("stats")
    for k, v in pairs(s) do
      if k == "first_bad" then
        if total.first_bad == "" then total.first_bad = v end
      else
        total[k] = total[k] + v
      end
    end
    for _, v in ipairs(thread:get("latencies")) do all[#all + 1] = v end
    for _, v in ipairs(thread:get("submit")) do last[#last + 1] = v end
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'LOADTEST {"seconds":%.3f,"requests":%d,"hops":%d,"counted":%d,"non200":%d,"bad":%d,"sessions":%d,'
      .. '"socket_errors":%d,"timeouts":%d,"p50":%.3f,"p90":%.3f,"p99":%.3f,"p999":%.3f,"max":%.3f,'
      .. '"submit_p50":%.3f,"submit_p99":%.3f,"submit_n":%d,"first_bad":"%s"}\n',
    seconds, summary.requests, total.requests, total.counted, total.non200 + e.status, total.bad, total.sessions,
    e.connect + e.read + e.write, e.timeout,
    percentile(all, 0.50), percentile(all, 0.90), percentile(all, 0.99), percentile(all, 0.999),
    percentile(all, 1.0), percentile(last, 0.50), percentile(last, 0.99), #last,
    total.first_bad:gsub('[%c"\\]', " ")))
end
