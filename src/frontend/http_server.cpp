#include "frontend/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <microhttpd.h>

#include "engine/error.h"

namespace mn::http {

namespace {
MHD_Connection* conn(const Request& r) { return static_cast<MHD_Connection*>(r.connection); }
}  // namespace

const char* Request::header(const char* name) const {
    return connection ? MHD_lookup_connection_value(conn(*this), MHD_HEADER_KIND, name) : nullptr;
}

const char* Request::query(const char* name) const {
    return connection ? MHD_lookup_connection_value(conn(*this), MHD_GET_ARGUMENT_KIND, name) : nullptr;
}

bool Request::has_query(const char* name) const {
    const char* value = nullptr;
    size_t size = 0;
    return connection && MHD_lookup_connection_value_n(conn(*this), MHD_GET_ARGUMENT_KIND, name, std::strlen(name),
                                                       &value, &size) == MHD_YES;
}

std::string Request::target() const {
    std::string t = path;
    if (!connection) return t;
    MHD_get_connection_values(
        conn(*this), MHD_GET_ARGUMENT_KIND,
        [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
            std::string& s = *static_cast<std::string*>(cls);
            s += s.find('?') == std::string::npos ? '?' : '&';
            s += key;
            if (value) s += std::string("=") + value;
            return MHD_YES;
        },
        &t);
    return t;
}

struct Server::Pending {
    Request request;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    bool answered = false;
    size_t dropped = 0;  // bytes of a chunked body over the limit, read and thrown away
};

// libmicrohttpd's callbacks, friends of Server.
struct Callbacks {
    static MHD_Result send(Server& s, Server::Pending& p, const Response& r) {
        MHD_Response* m = MHD_create_response_from_buffer(r.body.size(), const_cast<char*>(r.body.data()),
                                                          MHD_RESPMEM_MUST_COPY);
        if (!m) return MHD_NO;
        MHD_add_response_header(m, "Content-Type", r.content_type.c_str());
        for (const auto& [k, v] : r.headers) MHD_add_response_header(m, k.c_str(), v.c_str());
        const MHD_Result ok = MHD_queue_response(conn(p.request), static_cast<unsigned>(r.status), m);
        MHD_destroy_response(m);
        p.answered = true;
        if (s.observer_)
            s.observer_(p.request, r,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - p.start).count());
        return ok;
    }

    static Response too_large(const Server& s) {
        Response r;
        r.status = 413;
        r.body = "{\"error\":\"request body is over the limit of " + std::to_string(s.options_.max_body_bytes) +
                 " bytes\"}";
        r.headers.emplace_back("Connection", "close");
        return r;
    }

    static MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                                 const char* upload, size_t* upload_size, void** state) {
        Server& s = *static_cast<Server*>(cls);
        auto* p = static_cast<Server::Pending*>(*state);
        if (!p) {  // the headers are in
            p = new Server::Pending;
            *state = p;
            s.in_flight_.fetch_add(1);
            p->request.method = method;
            p->request.path = url;
            p->request.connection = c;
            if (const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) {
                char buf[INET6_ADDRSTRLEN] = "";
                const sockaddr* a = info->client_addr;
                if (a->sa_family == AF_INET)
                    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a)->sin_addr, buf, sizeof buf);
                else if (a->sa_family == AF_INET6)
                    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr, buf, sizeof buf);
                p->request.client = buf;
            }
            const char* length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (length && std::strtoull(length, nullptr, 10) > s.options_.max_body_bytes)
                return send(s, *p, too_large(s));  // before reading a byte of it
            return MHD_YES;
        }
        if (*upload_size > 0) {
            // A chunked body that grows over the limit is read to its end and thrown away (a
            // response cut into the upload would be lost to the client), up to 64 times the
            // limit; then the connection is closed.
            if (p->dropped > 0 || p->request.body.size() + *upload_size > s.options_.max_body_bytes) {
                p->dropped += *upload_size;
                p->request.body.clear();
                *upload_size = 0;
                return p->dropped / 64 > s.options_.max_body_bytes ? MHD_NO : MHD_YES;
            }
            p->request.body.append(upload, *upload_size);
            *upload_size = 0;
            return MHD_YES;
        }
        if (p->dropped > 0) return send(s, *p, too_large(s));
        Response r;
        try {
            r = s.handler_(p->request);
        } catch (const std::exception& e) {
            r = Response{};
            r.status = 500;
            r.body = std::string("{\"error\":\"internal error\"}");
        }
        return send(s, *p, r);
    }

    static void on_completed(void* cls, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
        auto* p = static_cast<Server::Pending*>(*state);
        if (!p) return;
        delete p;
        *state = nullptr;
        static_cast<Server*>(cls)->in_flight_.fetch_sub(1);
    }
};

Server::Server(const ServerOptions& options, Handler handler, Observer observer)
    : options_(options), handler_(std::move(handler)), observer_(std::move(observer)) {
    const std::string where = options.host + ":" + std::to_string(options.port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const int rc = getaddrinfo(options.host.c_str(), std::to_string(options.port).c_str(), &hints, &found);
    check(rc == 0 && found, "cannot listen on " + where + ": " + gai_strerror(rc));
    const int family = found->ai_family;
    listen_fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    bool ok = listen_fd_ >= 0 && ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
              ::bind(listen_fd_, found->ai_addr, found->ai_addrlen) == 0 && ::listen(listen_fd_, 1024) == 0;
    const int err = errno;
    freeaddrinfo(found);
    if (!ok) {
        if (listen_fd_ >= 0) ::close(listen_fd_);
        throw Error("cannot listen on " + where + ": " + std::strerror(err));
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                     : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC;
    if (family == AF_INET6) flags |= MHD_USE_IPv6;
    daemon_ = MHD_start_daemon(
        flags, 0, nullptr, nullptr, &Callbacks::on_request, this,                    //
        MHD_OPTION_LISTEN_SOCKET, listen_fd_,                                        //
        MHD_OPTION_THREAD_POOL_SIZE, unsigned(std::max(1, options.threads)),         //
        MHD_OPTION_CONNECTION_TIMEOUT, unsigned(std::max(1, options.timeout_seconds)),  //
        MHD_OPTION_CONNECTION_LIMIT, unsigned(std::max(1, options.max_connections)),    //
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, size_t(options.max_header_bytes) + 4096,  // headers + read buffer
        MHD_OPTION_NOTIFY_COMPLETED, &Callbacks::on_completed, this,                //
        MHD_OPTION_END);
    if (!daemon_) {
        ::close(listen_fd_);
        throw Error("cannot start the HTTP server on " + where);
    }
}

Server::~Server() { stop(0.0); }

std::string Server::url() const {
    const bool v6 = options_.host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(port_) + "/";
}

void Server::stop(double grace_seconds) {
    if (!daemon_) return;
    MHD_quiesce_daemon(daemon_);
    ::close(listen_fd_);
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_seconds);
    while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    MHD_stop_daemon(daemon_);
    daemon_ = nullptr;
}

}  // namespace mn::http
