#include "frontend/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <strings.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_set>

#include <dlfcn.h>
#include <microhttpd.h>

#include "engine/error.h"

namespace mn::http {

namespace {

bool same_name(const std::string& a, const char* b) { return ::strcasecmp(a.c_str(), b) == 0; }

using Clock = std::chrono::steady_clock;

// libmicrohttpd's functions, typed by its header, from the library loaded when the first server
// starts rather than linked: linked, it and the GnuTLS it pulls in took about 4 MB of memory and
// the time to map and relocate them in every mnist command, and only `mnist serve` uses it.
struct Mhd {
    decltype(&::MHD_start_daemon) start_daemon;
    decltype(&::MHD_stop_daemon) stop_daemon;
    decltype(&::MHD_quiesce_daemon) quiesce_daemon;
    decltype(&::MHD_get_connection_info) get_connection_info;
    decltype(&::MHD_get_connection_values) get_connection_values;
    decltype(&::MHD_create_response_from_buffer) create_response_from_buffer;
    decltype(&::MHD_add_response_header) add_response_header;
    decltype(&::MHD_queue_response) queue_response;
    decltype(&::MHD_destroy_response) destroy_response;
};

const Mhd& mhd() {
    static const Mhd m = [] {
        void* lib = ::dlopen(MNIST_MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!lib)
            throw Error(std::string("cannot load libmicrohttpd, which the HTTP server runs on (Debian: apt-get install ") +
                        "libmicrohttpd12): " + ::dlerror());
        auto get = [lib](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
            check(fn != nullptr, std::string("libmicrohttpd (") + MNIST_MHD_SONAME + ") lacks " + name);
        };
        Mhd f{};
        get(f.start_daemon, "MHD_start_daemon");
        get(f.stop_daemon, "MHD_stop_daemon");
        get(f.quiesce_daemon, "MHD_quiesce_daemon");
        get(f.get_connection_info, "MHD_get_connection_info");
        get(f.get_connection_values, "MHD_get_connection_values");
        get(f.create_response_from_buffer, "MHD_create_response_from_buffer");
        get(f.add_response_header, "MHD_add_response_header");
        get(f.queue_response, "MHD_queue_response");
        get(f.destroy_response, "MHD_destroy_response");
        return f;
    }();
    return m;
}

}  // namespace

const char* Request::header(const char* name) const {
    for (const auto& [k, v] : headers)
        if (same_name(k, name)) return v.c_str();
    return nullptr;
}

const char* Request::query(const char* name) const {
    for (const Arg& a : args)
        if (a.name == name) return a.has_value ? a.value.c_str() : nullptr;
    return nullptr;
}

bool Request::has_query(const char* name) const {
    for (const Arg& a : args)
        if (a.name == name) return true;
    return false;
}

std::string Request::target() const {
    std::string t = path;
    for (size_t i = 0; i < args.size(); ++i) {
        t += i == 0 ? '?' : '&';
        t += args[i].name;
        if (args[i].has_value) t += "=" + args[i].value;
    }
    return t;
}

struct Server::Pending {
    Request request;
    MHD_Connection* connection = nullptr;
    Clock::time_point start = Clock::now();
    bool answered = false;
    size_t dropped = 0;  // bytes of a chunked body over the limit, read and thrown away
};

// MHD's socket context of a connection: its socket and the time by which its current request
// must have arrived (or its response been taken). Written by the connection's thread, read by
// the deadline thread.
struct Server::Connection {
    int fd = -1;
    std::atomic<int64_t> deadline{0};  // steady-clock nanoseconds; kNever while a handler runs
    std::atomic<bool> answering{false};  // a response queued and not yet all sent
    static constexpr int64_t kNever = INT64_MAX;

    void expire_in(int seconds) {
        deadline.store((Clock::now() + std::chrono::seconds(seconds)).time_since_epoch().count(),
                       std::memory_order_relaxed);
    }
};

// Every open connection, and a thread that shuts down those past their deadline. The set is
// changed (under the mutex) when MHD opens and before it closes a socket, so the thread can
// never shut down a socket number that MHD has closed and the kernel handed to someone else.
struct Server::Deadlines {
    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    std::unordered_set<Connection*> open;
    std::thread thread;

    void run() {
        std::unique_lock<std::mutex> lock(mutex);
        while (!stopping) {
            wake.wait_for(lock, std::chrono::milliseconds(200));
            const int64_t now = Clock::now().time_since_epoch().count();
            for (Connection* c : open) {
                const int64_t deadline = c->deadline.load(std::memory_order_relaxed);
                if (deadline == Connection::kNever) continue;
                // Past its deadline; or waiting for a request from a client that has closed its
                // side (the end of its stream is all that is left to read: no request can come).
                // MHD reads such an end together with the last bytes and may not look again.
                char byte;
                if (deadline < now || (!c->answering.load(std::memory_order_relaxed) &&
                                       ::recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0)) {
                    ::shutdown(c->fd, SHUT_RDWR);  // MHD sees the end of the stream and closes it
                    c->deadline.store(Connection::kNever, std::memory_order_relaxed);
                }
            }
        }
    }

    void stop() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            stopping = true;
        }
        wake.notify_all();
        if (thread.joinable()) thread.join();
    }
};

// libmicrohttpd's callbacks, friends of Server.
struct Callbacks {
    static Server::Connection* connection_of(MHD_Connection* c) {
        const MHD_ConnectionInfo* info = mhd().get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        return info ? static_cast<Server::Connection*>(info->socket_context) : nullptr;
    }

    static void on_connection(void* cls, MHD_Connection* c, void** context, MHD_ConnectionNotificationCode code) {
        Server& s = *static_cast<Server*>(cls);
        Server::Deadlines& d = *s.deadlines_;
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
            auto* conn = new Server::Connection;
            if (const MHD_ConnectionInfo* info = mhd().get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD))
                conn->fd = info->connect_fd;
            conn->expire_in(s.options_.timeout_seconds);
            std::lock_guard<std::mutex> lock(d.mutex);
            d.open.insert(conn);
            *context = conn;
        } else if (auto* conn = static_cast<Server::Connection*>(*context)) {
            std::lock_guard<std::mutex> lock(d.mutex);
            d.open.erase(conn);
            delete conn;
            *context = nullptr;
        }
    }

    static MHD_Result send(Server& s, Server::Pending& p, const Response& r) {
        MHD_Response* m = mhd().create_response_from_buffer(r.body.size(), const_cast<char*>(r.body.data()),
                                                          MHD_RESPMEM_MUST_COPY);
        if (!m) return MHD_NO;
        mhd().add_response_header(m, "Content-Type", r.content_type.c_str());
        for (const auto& [k, v] : r.headers) mhd().add_response_header(m, k.c_str(), v.c_str());
        // A client that sent its request and then closed its side (shutdown(SHUT_WR)) gets the
        // answer and the connection closed after it: MHD read the end of the stream together
        // with the request and would otherwise wait for another one until the timeout.
        Server::Connection* conn = connection_of(p.connection);
        if (conn && conn->fd >= 0) {
            char byte;
            if (::recv(conn->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
                mhd().add_response_header(m, MHD_HTTP_HEADER_CONNECTION, "close");
        }
        const MHD_Result ok = mhd().queue_response(p.connection, static_cast<unsigned>(r.status), m);
        mhd().destroy_response(m);
        p.answered = true;
        // The response must be taken, and the next request arrive, in time.
        if (conn) {
            conn->answering.store(true, std::memory_order_relaxed);
            conn->expire_in(s.options_.timeout_seconds);
        }
        if (s.observer_)
            s.observer_(p.request, r, std::chrono::duration<double>(Clock::now() - p.start).count());
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

    // The request's headers and query, copied into the Request.
    static void read_values(MHD_Connection* c, Request& r) {
        mhd().get_connection_values(
            c, MHD_HEADER_KIND,
            [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
                static_cast<Request*>(cls)->headers.emplace_back(key, value ? value : "");
                return MHD_YES;
            },
            &r);
        mhd().get_connection_values(
            c, MHD_GET_ARGUMENT_KIND,
            [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
                static_cast<Request*>(cls)->args.push_back({key, value ? value : "", value != nullptr});
                return MHD_YES;
            },
            &r);
    }

    static std::string client_address(MHD_Connection* c) {
        char buf[INET6_ADDRSTRLEN] = "";
        if (const MHD_ConnectionInfo* info = mhd().get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) {
            const sockaddr* a = info->client_addr;
            if (a->sa_family == AF_INET)
                inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a)->sin_addr, buf, sizeof buf);
            else if (a->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr, buf, sizeof buf);
        }
        return buf;
    }

    static MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                                 const char* upload, size_t* upload_size, void** state) {
        Server& s = *static_cast<Server*>(cls);
        auto* p = static_cast<Server::Pending*>(*state);
        if (!p) {  // the headers are in
            p = new Server::Pending;
            *state = p;
            s.in_flight_.fetch_add(1);
            p->connection = c;
            p->request.method = method;
            p->request.path = url;
            p->request.client = client_address(c);
            read_values(c, p->request);
            const char* length = p->request.header(MHD_HTTP_HEADER_CONTENT_LENGTH);
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
        // The whole request is in: no deadline while the handler runs (send sets the next).
        if (Server::Connection* conn = connection_of(c)) conn->deadline.store(Server::Connection::kNever);
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

    static void on_completed(void* cls, MHD_Connection* c, void** state, MHD_RequestTerminationCode) {
        if (Server::Connection* conn = connection_of(c)) conn->answering.store(false, std::memory_order_relaxed);
        auto* p = static_cast<Server::Pending*>(*state);
        if (!p) return;
        delete p;
        *state = nullptr;
        static_cast<Server*>(cls)->in_flight_.fetch_sub(1);
    }
};

Server::Server(const ServerOptions& options, Handler handler, Observer observer)
    : options_(options),
      handler_(std::move(handler)),
      observer_(std::move(observer)),
      deadlines_(std::make_unique<Deadlines>()) {
    mhd();  // the library first: without it, no socket to close
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
    daemon_ = mhd().start_daemon(
        flags, 0, nullptr, nullptr, &Callbacks::on_request, this,                    //
        MHD_OPTION_LISTEN_SOCKET, listen_fd_,                                        //
        MHD_OPTION_THREAD_POOL_SIZE, unsigned(std::max(1, options.threads)),         //
        MHD_OPTION_CONNECTION_TIMEOUT, unsigned(std::max(1, options.timeout_seconds)),  //
        MHD_OPTION_CONNECTION_LIMIT, unsigned(std::max(1, options.max_connections)),    //
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, size_t(options.max_header_bytes) + 4096,  // headers + read buffer
        MHD_OPTION_NOTIFY_COMPLETED, &Callbacks::on_completed, this,                //
        MHD_OPTION_NOTIFY_CONNECTION, &Callbacks::on_connection, this,              //
        MHD_OPTION_END);
    if (!daemon_) {
        ::close(listen_fd_);
        throw Error("cannot start the HTTP server on " + where);
    }
    deadlines_->thread = std::thread([d = deadlines_.get()] { d->run(); });
}

Server::~Server() { stop(0.0); }

std::string Server::url() const {
    const bool v6 = options_.host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(port_) + "/";
}

void Server::stop(double grace_seconds) {
    if (!daemon_) return;
    mhd().quiesce_daemon(daemon_);
    ::close(listen_fd_);
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_seconds);
    while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    mhd().stop_daemon(daemon_);  // (the deadline thread goes on cutting off slow clients until here)
    daemon_ = nullptr;
    deadlines_->stop();
}

}  // namespace mn::http
