#pragma once
// An HTTP/1.1 server on GNU libmicrohttpd, event-driven: each of `threads` threads runs an
// epoll loop over its share of the connections (a keep-alive connection costs memory, not a
// thread), and calls the handler for each complete request. Limits are enforced here, before a
// handler runs: the body (413, checked against Content-Length before it is read, and as it
// arrives for chunked bodies), headers (MHD's per-connection memory: 431), idle connections
// (closed after the timeout), connection count. stop() stops accepting, lets the requests in
// flight finish, then closes.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

struct MHD_Daemon;

namespace mn::http {

struct Request {
    std::string method;  // "GET", "POST", ...
    std::string path;    // percent-decoded, without the query
    std::string body;
    std::string client;  // the peer's address
    // Header (any case) or query argument (percent-decoded) of the request; null when absent.
    const char* header(const char* name) const;
    const char* query(const char* name) const;
    bool has_query(const char* name) const;  // also "?name" with no value
    std::string target() const;  // path and query as sent, for the access log
    void* connection = nullptr;  // the MHD_Connection
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
    size_t max_body_bytes = 1 << 20;
    size_t max_header_bytes = 16 << 10;
    int timeout_seconds = 10;      // idle (and stalled) connections are closed after this
    int max_connections = 4096;
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

    struct Pending;  // one request being received (internal)

private:
    ServerOptions options_;
    Handler handler_;
    Observer observer_;
    int listen_fd_ = -1;
    int port_ = 0;
    MHD_Daemon* daemon_ = nullptr;
    std::atomic<int> in_flight_{0};

    friend struct Callbacks;
};

}  // namespace mn::http
