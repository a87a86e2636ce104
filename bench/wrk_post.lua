-- wrk script of bench/serve_throughput.sh: every request POSTs the file $BODY with the
-- Content-Type $CTYPE.
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("CTYPE") or "application/octet-stream"
