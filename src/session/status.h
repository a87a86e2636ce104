#pragma once
// What can go wrong in a session, as values every front end maps the same way: the C API
// returns them (include/mnist.h numbers them identically), the server turns them into HTTP
// statuses, the CLI prints `error: <file>: <message>`. The message of a failure is its detail
// (one line from the reader that found the problem); status_string names the kind.
#include <string>

#include "engine/error.h"

namespace mn {

enum class Status : int {
    Ok = 0,
    InvalidArgument = 1,  // a caller's mistake: null pointer, wrong pixel count, bad size
    CannotRead = 2,       // the file cannot be opened or read
    BadModel = 3,         // not a model file, malformed, or not a network this build knows
    BadImage = 4,         // not a decodable image, or malformed pixels
    ImageTooLarge = 5,    // more pixels than the limit
    NoDigit = 6,          // the image holds no ink
    OutOfMemory = 7,
    Internal = 8,         // a bug: please report
    BadData = 9,          // not a labelled set of images (IDX files), or not one a network can train on
};

// "invalid argument", "cannot read file", "not a valid model", ...
const char* status_string(Status s);

// An mn::Error that also says which kind of failure it is.
class StatusError : public Error {
public:
    StatusError(Status s, const std::string& what) : Error(what), status_(s) {}
    Status status() const { return status_; }

private:
    Status status_;
};

// Runs f(); an mn::Error thrown inside that is not yet a StatusError becomes one of kind `s`.
template <typename F>
auto with_status(Status s, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const StatusError&) {
        throw;
    } catch (const Error& e) {
        throw StatusError(s, e.what());
    }
}

}  // namespace mn
