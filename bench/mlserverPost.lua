-- wrk script of bench/mlserverAlone.ts: POSTs the JSON body in the file MC_BODY_FILE, and at the
-- end prints one machine-readable line: requests, failures, p50 and p99 in microseconds, seconds.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = assert(io.open(os.getenv("MC_BODY_FILE"), "r"))
wrk.body = file:read("*a")
file:close()

done = function(summary, latency, requests)
  local e = summary.errors
  local failed = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    "MC-RESULT %d %d %d %d %.3f\n",
    summary.requests, failed, latency:percentile(50), latency:percentile(99), summary.duration / 1e6
  ))
end
