#include "session/status.h"

namespace mn {

const char* status_string(Status s) {
    switch (s) {
        case Status::Ok: return "ok";
        case Status::InvalidArgument: return "invalid argument";
        case Status::CannotRead: return "cannot read file";
        case Status::BadModel: return "not a valid model";
        case Status::BadImage: return "not a valid image";
        case Status::ImageTooLarge: return "image too large";
        case Status::NoDigit: return "no digit in the image";
        case Status::OutOfMemory: return "out of memory";
        case Status::Internal: return "internal error";
        case Status::BadData: return "not a valid data set";
    }
    return "unknown status";
}

}  // namespace mn
