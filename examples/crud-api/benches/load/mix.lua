-- crud-api's load mix for wrk (`cargo xtask load`). LOAD_DATA names a file of seeded users,
-- one per line: TOKEN CLIENT_ID PROJECT_ID. LOAD_MIX is `mix` (lists, reads, creates,
-- updates, reports and failing sign-ins from many addresses behind the trusted proxy) or
-- `reads` (lists and reads only, for the overhead comparison; `list` and `get` each alone). `done` prints one line,
-- `LOAD_RESULT {json}`, with the latency percentiles and the count of each status.
local users = {}
for line in io.lines(os.getenv("LOAD_DATA")) do
  local token, client, project = line:match("^(%S+) (%S+) (%S+)$")
  if token then
    users[#users + 1] = { token = token, client = client, project = project }
  end
end
local mix = os.getenv("LOAD_MIX") or "mix"
local filter = "%7B%22tier%22%3A%7B%22%24gte%22%3A1%7D%7D"
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  n = 0
end

function request()
  n = n + 1
  local user = users[((n * 7 + thread_id * 101) % #users) + 1]
  local headers = {
    ["authorization"] = "Bearer " .. user.token,
    ["content-type"] = "application/json",
  }
  local pick = n % 20
  if mix == "list" or (mix == "reads" and pick % 2 == 0) then
    return wrk.format("GET", "/api/v1/clients?filters=" .. filter, headers)
  end
  if mix == "get" or mix == "reads" then
    return wrk.format("GET", "/api/v1/projects/" .. user.project, headers)
  end
  if pick < 8 then
    return wrk.format("GET", "/api/v1/clients?filters=" .. filter, headers)
  elseif pick < 11 then
    return wrk.format("GET", "/api/v1/projects/" .. user.project, headers)
  elseif pick < 14 then
    return wrk.format("POST", "/api/v1/documents", headers, string.format(
      '{"title":"load %d","project_id":"%s","client_id":"%s"}', n, user.project, user.client))
  elseif pick < 16 then
    return wrk.format("PATCH", "/api/v1/clients/" .. user.client, headers, '{"tier":2}')
  elseif pick < 18 then
    return wrk.format("GET", "/api/v1/reports/documents-per-project?sort=documents:desc", headers)
  end
  local signin = {
    ["content-type"] = "application/json",
    ["x-forwarded-for"] = string.format("198.51.100.%d", (n + thread_id * 37) % 250),
  }
  return wrk.format("POST", "/api/v1/signin", signin,
    '{"email":"nobody@example.com","password":"not the password"}')
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    parts[#parts + 1] = string.format('"%d":%d', status, count)
  end
  local errors = summary.errors
  io.write(string.format(
    'LOAD_RESULT {"requests":%d,"micros":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"socket_errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), errors.connect + errors.read + errors.write + errors.timeout,
    table.concat(parts, ",")))
end
