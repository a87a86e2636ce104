#pragma once
// A small Python pickle virtual machine. It runs the opcodes of protocols 2-4 that torch.save
// emits and builds a graph of plain values instead of Python objects: calls (REDUCE/NEWOBJ),
// globals, persistent ids and BUILD are kept as nodes for the caller to interpret. Nothing is
// ever imported or executed.
//
// Safety against hostile input: the machine is iterative (no recursion), every opcode
// argument is bounds-checked, and the number of objects, the stack height, the memo, the
// references containers hold and the MARK nesting are capped (engine/limits.h). The value graph can share nodes and may even contain cycles (a list
// appended to itself through the memo), so code that walks it recursively must bound its
// depth, as describe() does.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/limits.h"

namespace mn {

enum class PyKind : uint8_t {
    None,
    Bool,
    Int,
    Float,
    Str,           // text: UTF-8 bytes as found (not validated)
    Bytes,         // text: raw bytes
    Tuple,         // items
    List,          // items
    Dict,          // entries, in insertion order
    Global,        // text = module, name = attribute (GLOBAL / STACK_GLOBAL)
    Call,          // callable(*args), from REDUCE or NEWOBJ
    PersistentId,  // pid: the value BINPERSID popped
    Build,         // object after BUILD applied state
};

struct PyValue {
    PyKind kind = PyKind::None;
    bool boolean = false;                 // Bool
    int64_t integer = 0;                  // Int
    double real = 0.0;                    // Float
    std::string text;                     // Str, Bytes; Global: module
    std::string name;                     // Global: attribute name
    std::vector<const PyValue*> items;    // Tuple, List; Call: values added by APPEND(S)
    // Dict; Call: pairs added by SETITEM(S) (e.g. an OrderedDict built by REDUCE). Every
    // SETITEM is kept in order: a repeated key is not merged with the earlier one.
    std::vector<std::pair<const PyValue*, const PyValue*>> entries;
    const PyValue* callable = nullptr;    // Call
    const PyValue* args = nullptr;        // Call: always a Tuple
    bool newobj = false;                  // Call: made by NEWOBJ (cls.__new__) rather than REDUCE
    const PyValue* object = nullptr;      // Build
    const PyValue* state = nullptr;       // Build
    const PyValue* pid = nullptr;         // PersistentId

    bool is_global(std::string_view module, std::string_view attribute) const {
        return kind == PyKind::Global && text == module && name == attribute;
    }
};

struct PickleLimits {
    uint64_t max_objects = limits::kPickleObjects;  // values created, the stack height, memo entries
    uint64_t max_references = limits::kPickleReferences;  // items and entries held by containers
    uint64_t max_marks = limits::kPickleMarks;      // MARKs open at once
};

// The result of unpickling: owns every node; pointers stay valid while it lives.
class Pickle {
public:
    const PyValue* root() const { return root_; }
    size_t object_count() const { return nodes_.size(); }

private:
    friend class PickleMachine;
    std::vector<std::unique_ptr<PyValue>> nodes_;
    const PyValue* root_ = nullptr;
};

// Runs the pickle in [data, data + size) up to its STOP opcode. Throws Error("pickle: ...")
// on an unknown opcode, stack underflow, undefined memo index, MARK misuse, a missing STOP,
// a truncated argument or an exceeded limit.
Pickle parse_pickle(const uint8_t* data, size_t size, const PickleLimits& limits = {});

std::string_view kind_name(PyKind kind);

// A short Python-like rendering for error messages, e.g. "torch.FloatStorage" or
// "('storage', torch.FloatStorage, '0', ...)". Stops at `depth` levels and a few items.
std::string describe(const PyValue* value, int depth = 2);

}  // namespace mn
