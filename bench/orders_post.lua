-- wrk script: POST /api/v1/orders with the bearer token of $TOKEN, one line of one of 20
-- SKUs (B0..B19) per order. Prints accepted orders/s and the latency percentiles.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"customer":{"email":"c%d@example.com"},"lines":[{"sku":"B%d","quantity":1}],"currency":"EUR"}',
    n % 1000, n % 20)
  return wrk.format(nil, nil, nil, body)
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local ok = summary.requests - summary.errors.status - summary.errors.timeout
  io.write(string.format("requests %d, refused (>=400) %d, timeouts %d, %.1f s\n",
    summary.requests, summary.errors.status, summary.errors.timeout, secs))
  io.write(string.format("accepted %.0f orders/s\n", ok / secs))
  for _, p in ipairs({50, 95, 99}) do
    io.write(string.format("p%d %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
