#pragma once
// A small command-line parser: positionals, `--name value` / `--name=value` options and flags,
// `--help` on every command. Wrong arguments throw UsageError (the CLI prints usage, exits 2).
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace mn::cli {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Args {
public:
    Args(std::string command, std::string summary);

    // Declarations, in the order they appear in --help.
    void positional(const std::string& name, const std::string& help, bool required = true);
    void option(const std::string& name, const std::string& metavar, const std::string& help,
                const std::string& fallback = "", const std::string& short_name = "");
    void flag(const std::string& name, const std::string& help);
    // The last positional, taking one or more values (NAME...).
    void positional_list(const std::string& name, const std::string& help);
    // An option that may be given several times; get_all() returns every value in order.
    void repeated_option(const std::string& name, const std::string& metavar, const std::string& help);
    void epilog(const std::string& text) { epilog_ = text; }

    // Returns false when --help was given (help already printed to stdout).
    bool parse(int argc, char** argv);

    std::string get(const std::string& name) const;  // positional or option value ("" if absent)
    bool has(const std::string& name) const;          // given on the command line (or a flag set)
    std::vector<std::string> get_all(const std::string& name) const;  // positional_list, repeated_option
    int64_t get_int(const std::string& name, int64_t min, int64_t max) const;
    uint64_t get_u64(const std::string& name) const;
    double get_double(const std::string& name, double min, double max) const;

    std::string usage() const;
    std::string help() const;

private:
    struct Spec {
        std::string name, metavar, help, fallback, short_name;
        bool is_flag = false, is_positional = false, required = false, many = false;
    };
    const Spec* find_option(const std::string& token) const;
    [[noreturn]] void fail(const std::string& message) const;  // UsageError with the usage line

    std::string command_, summary_, epilog_;
    std::vector<Spec> specs_;
    std::map<std::string, std::string> values_;
    std::map<std::string, std::vector<std::string>> lists_;
};

}  // namespace mn::cli
