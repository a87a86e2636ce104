// mnist serve: the models behind HTTP (frontend/serve_api.h for the endpoints). Binds 127.0.0.1
// unless told otherwise, prints its URL, logs one line per request (not with --quiet), and
// stops on SIGINT or SIGTERM once the requests in flight are answered.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/threads.h"
#include "frontend/http_server.h"
#include "frontend/serve_api.h"
#include "frontend/shipped_files.h"

namespace mn::cli {

namespace {

std::string stem(const std::string& path) {
    const std::filesystem::path p(path);
    return p.stem().string();
}

void log_line(const http::Request& req, const http::Response& r, double seconds) {
    char when[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char line[1024];
    const int n = std::snprintf(line, sizeof line, "%s %s \"%s %.600s\" %d %zu %.3fms\n", when, req.client.c_str(),
                                req.method.c_str(), req.target().c_str(), r.status, r.body.size(), seconds * 1e3);
    std::fwrite(line, 1, size_t(std::min<int>(n, int(sizeof line) - 1)), stderr);  // one write: lines never mix
}

}  // namespace

int cmd_serve(int argc, char** argv) {
    Args args("serve",
              "Serves the models over HTTP: POST /api/predict (an image, 784 raw bytes or JSON {\"pixels\": [...]}),\n"
              "the KServe v2 endpoints (/v2/...), /healthz, /api/models, /metrics (Prometheus), the test digits\n"
              "(/digits/random, /digits/N.png), the model files (/models/FILE) and the web demo (/). Stops on\n"
              "SIGINT or SIGTERM after answering the requests in flight.");
    args.option("host", "ADDR", "address to listen on (0.0.0.0 or :: for every interface)", "127.0.0.1");
    args.option("port", "P", "TCP port (0: any free port; the URL printed says which)", "8080");
    args.repeated_option("model", "M",
                         "a model to serve, by its file name without extension (?model=NAME); may be given\n"
                         "                          several times, the first is the default (default: the shipped CNN\n"
                         "                          and FC models)");
    args.option("threads", "T", "request threads (event loops that also run the predictions)",
                std::to_string(ThreadPool::default_threads()), "t");
    args.option("web", "DIR", "folder served at / (the web demo)", "build-web/site, built by scripts/build_web.sh");
    args.option("digits", "DIR", "folder with the MNIST test set for /digits", "data/mnist beside the models");
    args.option("max-body", "BYTES", "largest request body (413 above it)", "1048576");
    args.option("timeout", "S", "seconds each request may take to arrive, and each answer to be taken, before\n"
                                 "                          the connection is shut down (slow clients too, not only idle ones)", "10");
    args.flag("quiet", "no access log");
    add_cpu_option(args);
    if (!args.parse(argc, argv)) return 0;
    apply_cpu_option(args);

    http::ServerOptions opt;
    opt.host = args.get("host");
    opt.port = int(args.get_int("port", 0, 65535));
    opt.threads = int(args.get_int("threads", 1, 256));
    opt.max_body_bytes = size_t(args.get_int("max-body", 1, int64_t(1) << 30));
    opt.timeout_seconds = int(args.get_int("timeout", 1, 3600));

    ServeConfig config;
    std::vector<std::string> paths = args.get_all("model");
    if (paths.empty())
        paths = {shipped_file("models/mnist-cnn-f32.gguf"), shipped_file("models/mnist-fc-f32.gguf")};
    for (const std::string& path : paths) {
        ServedModel m;
        m.name = stem(path);
        m.path = path;
        for (const ServedModel& other : config.models)
            if (other.name == m.name) throw UsageError("two models named '" + m.name + "' (" + other.path + ", " + path + ")");
        m.session = on_file(path, [&] { return std::make_unique<Session>(path); });
        config.models.push_back(std::move(m));
    }
    config.web_dir = args.has("web") ? args.get("web") : web_site_dir();
    if (args.has("digits")) {
        config.digits_dir = args.get("digits");
    } else {
        const std::string dir = shipped_file("data/mnist");
        if (std::filesystem::exists(dir + "/t10k-labels-idx1-ubyte")) config.digits_dir = dir;
    }
    ServeApi api = on_file(config.digits_dir, [&] { return ServeApi(std::move(config)); });

    // Signals are taken by sigwait below, in this thread alone: block them before any other
    // thread starts (threads inherit the mask). A client that hangs up must not kill us.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    std::atomic<uint64_t> answered{0};
    const bool quiet = args.has("quiet");
    http::Server server(
        opt, [&](const http::Request& req) { return api.handle(req); },
        [&](const http::Request& req, const http::Response& r, double seconds) {
            api.observe(req, r, seconds);
            answered.fetch_add(1, std::memory_order_relaxed);
            if (!quiet) log_line(req, r, seconds);
        });
    std::string names;
    for (const ServedModel& m : api.config().models) names += (names.empty() ? "" : ", ") + m.name;
    std::printf("mnist serve: listening on %s (models: %s; %d threads)\n", server.url().c_str(), names.c_str(),
                opt.threads);
    if (api.config().web_dir.empty())
        std::printf("mnist serve: no web demo at / (scripts/build_web.sh builds it)\n");
    else
        std::printf("mnist serve: the web demo at %s (from %s)\n", server.url().c_str(), api.config().web_dir.c_str());
    std::fflush(stdout);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::printf("mnist serve: %s, stopping after the requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stdout);
    server.stop(5.0);
    std::printf("mnist serve: stopped; %llu requests answered\n", static_cast<unsigned long long>(answered.load()));
    return 0;
}

}  // namespace mn::cli
