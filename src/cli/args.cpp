#include "cli/args.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace mn::cli {

void Args::fail(const std::string& message) const {
    std::string u = usage();
    u.pop_back();  // usage() ends in a newline; the caller adds its own
    throw UsageError(message + "\n" + u);
}

Args::Args(std::string command, std::string summary) : command_(std::move(command)), summary_(std::move(summary)) {}

void Args::positional(const std::string& name, const std::string& help, bool required) {
    Spec s;
    s.name = name;
    s.help = help;
    s.is_positional = true;
    s.required = required;
    specs_.push_back(s);
}

void Args::option(const std::string& name, const std::string& metavar, const std::string& help,
                  const std::string& fallback, const std::string& short_name) {
    Spec s;
    s.name = name;
    s.metavar = metavar;
    s.help = help;
    s.fallback = fallback;
    s.short_name = short_name;
    specs_.push_back(s);
}

void Args::flag(const std::string& name, const std::string& help) {
    Spec s;
    s.name = name;
    s.help = help;
    s.is_flag = true;
    specs_.push_back(s);
}

void Args::positional_list(const std::string& name, const std::string& help) {
    positional(name, help);
    specs_.back().many = true;
}

void Args::repeated_option(const std::string& name, const std::string& metavar, const std::string& help) {
    option(name, metavar, help);
    specs_.back().many = true;
}

const Args::Spec* Args::find_option(const std::string& token) const {
    for (const Spec& s : specs_)
        if (!s.is_positional && (token == "--" + s.name || (!s.short_name.empty() && token == "-" + s.short_name)))
            return &s;
    return nullptr;
}

bool Args::parse(int argc, char** argv) {
    std::vector<const Spec*> positionals;
    for (const Spec& s : specs_)
        if (s.is_positional) positionals.push_back(&s);
    size_t next_positional = 0;
    bool only_positionals = false;
    for (int i = 0; i < argc; ++i) {
        std::string tok = argv[i];
        if (!only_positionals && (tok == "--help" || tok == "-h")) {
            std::fputs(help().c_str(), stdout);
            return false;
        }
        if (!only_positionals && tok == "--") {
            only_positionals = true;
            continue;
        }
        if (!only_positionals && tok.size() > 1 && tok[0] == '-') {
            std::string value;
            bool inline_value = false;
            if (auto eq = tok.find('='); eq != std::string::npos && tok.rfind("--", 0) == 0) {
                value = tok.substr(eq + 1);
                tok = tok.substr(0, eq);
                inline_value = true;
            }
            const Spec* s = find_option(tok);
            if (!s) fail("unknown option '" + tok + "'");
            if (s->is_flag) {
                if (inline_value) fail("option '--" + s->name + "' takes no value");
                values_[s->name] = "1";
                continue;
            }
            if (!inline_value) {
                if (i + 1 >= argc) fail("option '--" + s->name + "' needs a value (" + s->metavar + ")");
                value = argv[++i];
            }
            values_[s->name] = value;
            if (s->many) lists_[s->name].push_back(value);
            continue;
        }
        if (next_positional >= positionals.size()) fail("unexpected argument '" + tok + "'");
        const Spec* p = positionals[next_positional];
        values_[p->name] = tok;
        if (p->many)
            lists_[p->name].push_back(tok);
        else
            ++next_positional;
    }
    for (const Spec* p : positionals)
        if (p->required && !values_.count(p->name)) fail("missing argument " + p->name);
    return true;
}

std::string Args::get(const std::string& name) const {
    auto it = values_.find(name);
    if (it != values_.end()) return it->second;
    for (const Spec& s : specs_)
        if (s.name == name) return s.fallback;
    return "";
}

bool Args::has(const std::string& name) const { return values_.count(name) != 0; }

std::vector<std::string> Args::get_all(const std::string& name) const {
    auto it = lists_.find(name);
    return it == lists_.end() ? std::vector<std::string>{} : it->second;
}

int64_t Args::get_int(const std::string& name, int64_t min, int64_t max) const {
    const std::string v = get(name);
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno == ERANGE || x < min || x > max)
        fail("--" + name + " must be an integer from " + std::to_string(min) + " to " +
                         std::to_string(max) + ", got '" + v + "'");
    return x;
}

uint64_t Args::get_u64(const std::string& name) const {
    const std::string v = get(name);
    char* end = nullptr;
    errno = 0;
    const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || v[0] == '-' || *end != '\0' || errno == ERANGE)
        fail("--" + name + " must be a non-negative integer, got '" + v + "'");
    return x;
}

double Args::get_double(const std::string& name, double min, double max) const {
    const std::string v = get(name);
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(x >= min && x <= max))
        fail("--" + name + " must be a number from " + std::to_string(min) + " to " + std::to_string(max) +
                         ", got '" + v + "'");
    return x;
}

std::string Args::usage() const {
    std::string u = "usage: mnist " + command_;
    bool any_option = false;
    for (const Spec& s : specs_) any_option = any_option || !s.is_positional;
    if (any_option) u += " [options]";
    for (const Spec& s : specs_)
        if (s.is_positional) u += s.required ? " " + s.name + (s.many ? "..." : "") : " [" + s.name + "]";
    return u + "\n";
}

std::string Args::help() const {
    std::string h = usage() + "\n" + summary_ + "\n";
    bool header = false;
    for (const Spec& s : specs_) {
        if (!s.is_positional) continue;
        if (!header) h += "\narguments:\n";
        header = true;
        std::string left = "  " + s.name;
        left.resize(std::max<size_t>(left.size() + 2, 26), ' ');
        h += left + s.help + "\n";
    }
    h += "\noptions:\n";
    for (const Spec& s : specs_) {
        if (s.is_positional) continue;
        std::string left = "  " + (s.short_name.empty() ? "" : "-" + s.short_name + ", ") + "--" + s.name;
        if (!s.is_flag) left += " " + s.metavar;
        left.resize(std::max<size_t>(left.size() + 2, 26), ' ');
        h += left + s.help + (s.fallback.empty() ? "" : " (default: " + s.fallback + ")") + "\n";
    }
    h += "  -h, --help              show this help\n";
    if (!epilog_.empty()) h += "\n" + epilog_ + "\n";
    return h;
}

}  // namespace mn::cli
