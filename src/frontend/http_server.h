#pragma once
// An HTTP/1.1 server on GNU libmicrohttpd, event-driven: each of `threads` threads runs an
// epoll loop over its share of the connections (a keep-alive connection costs memory, not a
// thread), and calls the handler for each complete request. Limits are enforced here, before a
// handler runs: the body (413, checked against Content-Length before it is read, and as it
// arrives for chunked bodies), headers (MHD's per-connection memory: 431), time (below),
// connection count. stop() stops accepting, lets the requests in flight finish, then closes.
//
// Time: a connection must deliver each request in full, and take each response, within
// `timeout_seconds` of its start or of the previous response; past that it is shut down. This
// is what cuts off a client that sends a byte a second (MHD's own timeout, also set, only
// closes connections with no traffic at all) or never reads its answer; a thread of ours
// checks the deadlines a few times a second.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/limits.h"

struct MHD_Daemon;

namespace mn::http {

// A request as the handler sees it: plain values, copied out of libmicrohttpd once the headers
// are in (so that handlers and fuzzers can make one without a connection).
struct Request {
    struct Arg {
        std::string name, value;
        bool has_value = false;  // "?number" has none
    };
    std::string method;  // "GET", "POST", ...
    std::string path;    // percent-decoded, without the query
    std::string body;
    std::string client;  // the peer's address
    std::vector<std::pair<std::string, std::string>> headers;  // as sent
    std::vector<Arg> args;                                     // the query, percent-decoded
    // Header (any case) or query argument of the request; null when absent (or without a value).
    const char* header(const char* name) const;
    const char* query(const char* name) const;
    bool has_query(const char* name) const;  // also "?name" with no value
    std::string target() const;  // path and query, for the access log
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;               // 0: any free port (see Server::port)
    int threads = 2;               // event loops, each also running the handler
    size_t max_body_bytes = limits::kRequestBodyBytes;
    size_t max_header_bytes = limits::kRequestHeaderBytes;
    int timeout_seconds = 10;      // for each request to arrive and each response to be taken
    // Bounds the memory of a server under any load: each connection holds at most its headers
    // and one body (about 1 GB for all at the defaults, 20 KB each when idle).
    int max_connections = 1024;
};

using Handler = std::function<Response(const Request&)>;
// Told about every response (the handler's and the server's own, such as 413), with the time
// from the request's headers to its response.
using Observer = std::function<void(const Request&, const Response&, double seconds)>;

class Server {
public:
    // Binds and starts serving; throws mn::Error (e.g. "cannot listen on 127.0.0.1:80: ...").
    Server(const ServerOptions& options, Handler handler, Observer observer);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    int port() const { return port_; }
    std::string url() const;
    // No new connections; waits up to `grace_seconds` for the requests in flight; closes.
    void stop(double grace_seconds = 5.0);

    struct Pending;     // one request being received (internal)
    struct Connection;  // one client connection and its deadline (internal)
    struct Deadlines;   // the connections, and the thread that cuts off those past theirs

private:
    ServerOptions options_;
    Handler handler_;
    Observer observer_;
    int listen_fd_ = -1;
    int port_ = 0;
    MHD_Daemon* daemon_ = nullptr;
    std::atomic<int> in_flight_{0};
    std::unique_ptr<Deadlines> deadlines_;

    friend struct Callbacks;
};

}  // namespace mn::http
