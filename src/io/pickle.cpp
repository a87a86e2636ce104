#include "io/pickle.h"

#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "engine/bits.h"
#include "engine/error.h"

namespace mn {

namespace {

// Opcode bytes, as defined by Python's pickle format (protocols 0-4).
enum Op : uint8_t {
    MARK = '(',
    STOP = '.',
    POP = '0',
    POP_MARK = '1',
    DUP = '2',
    BINFLOAT = 'G',
    BININT = 'J',
    BININT1 = 'K',
    BININT2 = 'M',
    NONE = 'N',
    BINPERSID = 'Q',
    REDUCE = 'R',
    BINSTRING = 'T',
    SHORT_BINSTRING = 'U',
    BINUNICODE = 'X',
    APPEND = 'a',
    BUILD = 'b',
    GLOBAL = 'c',
    DICT = 'd',
    EMPTY_DICT = '}',
    APPENDS = 'e',
    BINGET = 'h',
    LONG_BINGET = 'j',
    LIST = 'l',
    EMPTY_LIST = ']',
    BINPUT = 'q',
    LONG_BINPUT = 'r',
    SETITEM = 's',
    TUPLE = 't',
    EMPTY_TUPLE = ')',
    SETITEMS = 'u',
    BINBYTES = 'B',
    SHORT_BINBYTES = 'C',
    PROTO = 0x80,
    NEWOBJ = 0x81,
    TUPLE1 = 0x85,
    TUPLE2 = 0x86,
    TUPLE3 = 0x87,
    NEWTRUE = 0x88,
    NEWFALSE = 0x89,
    LONG1 = 0x8a,
    LONG4 = 0x8b,
    SHORT_BINUNICODE = 0x8c,
    BINUNICODE8 = 0x8d,
    BINBYTES8 = 0x8e,
    STACK_GLOBAL = 0x93,
    MEMOIZE = 0x94,
    FRAME = 0x95,
};

const char* op_name(uint8_t op) {
    switch (op) {
        case MARK: return "MARK";
        case STOP: return "STOP";
        case POP: return "POP";
        case POP_MARK: return "POP_MARK";
        case DUP: return "DUP";
        case BINFLOAT: return "BINFLOAT";
        case BININT: return "BININT";
        case BININT1: return "BININT1";
        case BININT2: return "BININT2";
        case NONE: return "NONE";
        case BINPERSID: return "BINPERSID";
        case REDUCE: return "REDUCE";
        case BINSTRING: return "BINSTRING";
        case SHORT_BINSTRING: return "SHORT_BINSTRING";
        case BINUNICODE: return "BINUNICODE";
        case APPEND: return "APPEND";
        case BUILD: return "BUILD";
        case GLOBAL: return "GLOBAL";
        case DICT: return "DICT";
        case EMPTY_DICT: return "EMPTY_DICT";
        case APPENDS: return "APPENDS";
        case BINGET: return "BINGET";
        case LONG_BINGET: return "LONG_BINGET";
        case LIST: return "LIST";
        case EMPTY_LIST: return "EMPTY_LIST";
        case BINPUT: return "BINPUT";
        case LONG_BINPUT: return "LONG_BINPUT";
        case SETITEM: return "SETITEM";
        case TUPLE: return "TUPLE";
        case EMPTY_TUPLE: return "EMPTY_TUPLE";
        case SETITEMS: return "SETITEMS";
        case BINBYTES: return "BINBYTES";
        case SHORT_BINBYTES: return "SHORT_BINBYTES";
        case PROTO: return "PROTO";
        case NEWOBJ: return "NEWOBJ";
        case TUPLE1: return "TUPLE1";
        case TUPLE2: return "TUPLE2";
        case TUPLE3: return "TUPLE3";
        case NEWTRUE: return "NEWTRUE";
        case NEWFALSE: return "NEWFALSE";
        case LONG1: return "LONG1";
        case LONG4: return "LONG4";
        case SHORT_BINUNICODE: return "SHORT_BINUNICODE";
        case BINUNICODE8: return "BINUNICODE8";
        case BINBYTES8: return "BINBYTES8";
        case STACK_GLOBAL: return "STACK_GLOBAL";
        case MEMOIZE: return "MEMOIZE";
        case FRAME: return "FRAME";
        default: return nullptr;
    }
}

constexpr int kHighestProtocol = 5;

}  // namespace

// Executes one pickle. The stack holds pointers into `out_.nodes_`; `marks_` holds the stack
// heights at each open MARK. As in CPython, the values below the innermost mark are out of
// reach of ordinary pops, so popping into them is a stack underflow.
class PickleMachine {
public:
    PickleMachine(const uint8_t* data, size_t size, const PickleLimits& limits)
        : data_(data), size_(size), limits_(limits), references_(limits.max_references, "pickle container items") {}

    Pickle run() {
        while (pos_ < size_) {
            op_pos_ = pos_;
            op_ = data_[pos_++];
            if (op_ == STOP) {
                out_.root_ = pop();
                return std::move(out_);
            }
            step();
        }
        throw Error("pickle: data ends without a STOP opcode");
    }

private:
    // ---- errors and argument reading ------------------------------------------------------

    [[noreturn]] void fail(const std::string& what) const {
        const char* name = op_name(op_);
        std::string where = name ? std::string(name) + " at offset " : "offset ";
        throw Error("pickle: " + what + " (" + where + std::to_string(op_pos_) + ")");
    }

    const uint8_t* arg(size_t n) {
        if (n > size_ - pos_) fail("data ends inside an opcode argument");
        const uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }

    template <typename T>
    T arg_le() {
        T v;
        std::memcpy(&v, arg(sizeof(T)), sizeof(T));
        return v;  // little-endian host, as everywhere in this project
    }

    // A length read from the stream, checked against the bytes left before any use.
    size_t length_arg(uint64_t n) {
        if (n > size_ - pos_) fail("length " + std::to_string(n) + " runs past the end of the data");
        return static_cast<size_t>(n);
    }

    std::string text_arg(size_t n) {
        const uint8_t* p = arg(n);
        return std::string(reinterpret_cast<const char*>(p), n);
    }

    // A newline-terminated text argument (the GLOBAL opcode's two lines).
    std::string line_arg() {
        const void* nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
        if (!nl) fail("data ends inside a text line");
        size_t n = static_cast<size_t>(static_cast<const uint8_t*>(nl) - (data_ + pos_));
        std::string s = text_arg(n);
        ++pos_;  // the newline
        return s;
    }

    // ---- stack, marks, memo and node creation ---------------------------------------------

    size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }

    PyValue* make(PyKind kind) {
        if (out_.nodes_.size() >= limits_.max_objects)
            fail("object count " + std::to_string(out_.nodes_.size() + 1) + " is over the limit of " +
                 std::to_string(limits_.max_objects));
        out_.nodes_.push_back(std::make_unique<PyValue>());
        out_.nodes_.back()->kind = kind;
        return out_.nodes_.back().get();
    }

    void push(PyValue* v) {
        if (stack_.size() >= limits_.max_objects)
            fail("stack height " + std::to_string(stack_.size() + 1) + " is over the limit of " +
                 std::to_string(limits_.max_objects));
        stack_.push_back(v);
    }

    PyValue* top() {
        if (stack_.size() <= floor()) fail("stack underflow");
        return stack_.back();
    }

    PyValue* pop() {
        PyValue* v = top();
        stack_.pop_back();
        return v;
    }

    void open_mark() {
        if (marks_.size() >= limits_.max_marks)
            fail("MARK nesting " + std::to_string(marks_.size() + 1) + " is over the limit of " +
                 std::to_string(limits_.max_marks));
        marks_.push_back(stack_.size());
    }

    // Removes and returns the values pushed since the innermost MARK, and that MARK.
    std::vector<const PyValue*> pop_mark() {
        if (marks_.empty()) fail("needs a MARK but none is open");
        size_t start = marks_.back();
        marks_.pop_back();
        std::vector<const PyValue*> items(stack_.begin() + static_cast<std::ptrdiff_t>(start), stack_.end());
        stack_.resize(start);
        hold(items.size());
        return items;
    }

    // Containers take `n` more references: each costs memory but as little as one opcode byte
    // in the data (DUP, then APPENDS), so they are counted as objects are.
    void hold(size_t n) {
        try {
            references_.spend(n);
        } catch (const Error& e) {
            fail(e.what());
        }
    }

    void memo_put(uint64_t index) {
        if (memo_.size() >= limits_.max_objects && memo_.count(index) == 0)
            fail("memo size " + std::to_string(memo_.size() + 1) + " is over the limit of " +
                 std::to_string(limits_.max_objects));
        memo_[index] = top();
    }

    void memo_get(uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end()) fail("memo index " + std::to_string(index) + " is not defined");
        push(it->second);
    }

    // ---- value builders -------------------------------------------------------------------

    void push_int(int64_t v) {
        PyValue* n = make(PyKind::Int);
        n->integer = v;
        push(n);
    }

    void push_bool(bool b) {
        PyValue* n = make(PyKind::Bool);
        n->boolean = b;
        push(n);
    }

    void push_text(PyKind kind, size_t n) {
        PyValue* v = make(kind);
        v->text = text_arg(n);
        push(v);
    }

    void push_tuple(std::vector<const PyValue*> items) {
        PyValue* t = make(PyKind::Tuple);
        t->items = std::move(items);
        push(t);
    }

    // Pops the last n values (in order) into a tuple.
    void push_tuple_of(size_t n) {
        hold(n);
        std::vector<const PyValue*> items(n);
        for (size_t i = n; i-- > 0;) items[i] = pop();
        push_tuple(std::move(items));
    }

    void push_global(std::string module, std::string name) {
        PyValue* g = make(PyKind::Global);
        g->text = std::move(module);
        g->name = std::move(name);
        push(g);
    }

    // LONG1/LONG4: little-endian two's complement of n bytes. Only what fits in int64 is kept.
    void push_long(size_t n) {
        if (n > 8) fail("integer of " + std::to_string(n) + " bytes is too large");
        const uint8_t* p = arg(n);
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
        if (n > 0 && n < 8 && (p[n - 1] & 0x80)) v |= ~uint64_t(0) << (8 * n);  // sign-extend
        push_int(static_cast<int64_t>(v));
    }

    void push_float() {
        const uint8_t* p = arg(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // BINFLOAT is big-endian
        PyValue* f = make(PyKind::Float);
        f->real = bit_cast<double>(bits);
        push(f);
    }

    void push_call(bool newobj) {
        PyValue* args = pop();
        PyValue* callable = pop();
        if (args->kind != PyKind::Tuple) fail("arguments are a " + std::string(kind_name(args->kind)) + ", not a tuple");
        PyValue* call = make(PyKind::Call);
        call->callable = callable;
        call->args = args;
        call->newobj = newobj;
        push(call);
    }

    // The object below the values being added must accept them: a list for APPEND(S), a dict
    // for SETITEM(S), or a Call node (an instance of a list/dict subclass such as OrderedDict).
    PyValue* container(PyKind wanted) {
        PyValue* target = top();
        if (target->kind != wanted && target->kind != PyKind::Call)
            fail("cannot add items to a " + std::string(kind_name(target->kind)));
        return target;
    }

    void set_items(std::vector<const PyValue*> kv) {
        if (kv.size() % 2 != 0) fail("odd number of values for key/value pairs");
        PyValue* dict = container(PyKind::Dict);
        for (size_t i = 0; i < kv.size(); i += 2) dict->entries.emplace_back(kv[i], kv[i + 1]);
    }

    // ---- one opcode ----------------------------------------------------------------------

    void step() {
        switch (op_) {
            case PROTO: {
                uint8_t proto = *arg(1);
                if (proto > kHighestProtocol) fail("unsupported protocol " + std::to_string(proto));
                break;
            }
            case FRAME: length_arg(arg_le<uint64_t>()); break;  // framing is only a read-ahead hint
            case MARK: open_mark(); break;
            case POP:  // as in CPython, POP with nothing above the mark discards the mark
                if (stack_.size() > floor() || marks_.empty()) pop();
                else pop_mark();
                break;
            case POP_MARK: pop_mark(); break;
            case DUP: push(top()); break;

            case NONE: push(make(PyKind::None)); break;
            case NEWTRUE: push_bool(true); break;
            case NEWFALSE: push_bool(false); break;
            case BININT: push_int(arg_le<int32_t>()); break;
            case BININT1: push_int(*arg(1)); break;
            case BININT2: push_int(arg_le<uint16_t>()); break;
            case LONG1: push_long(*arg(1)); break;
            case LONG4: {
                int32_t n = arg_le<int32_t>();
                if (n < 0) fail("negative integer length");
                push_long(static_cast<size_t>(n));
                break;
            }
            case BINFLOAT: push_float(); break;

            case SHORT_BINUNICODE: push_text(PyKind::Str, *arg(1)); break;
            case BINUNICODE: push_text(PyKind::Str, length_arg(arg_le<uint32_t>())); break;
            case BINUNICODE8: push_text(PyKind::Str, length_arg(arg_le<uint64_t>())); break;
            // Python 2 str: treated as text, which is what torch's keys would be.
            case SHORT_BINSTRING: push_text(PyKind::Str, *arg(1)); break;
            case BINSTRING: {
                int32_t n = arg_le<int32_t>();
                if (n < 0) fail("negative string length");
                push_text(PyKind::Str, length_arg(static_cast<uint64_t>(n)));
                break;
            }
            case SHORT_BINBYTES: push_text(PyKind::Bytes, *arg(1)); break;
            case BINBYTES: push_text(PyKind::Bytes, length_arg(arg_le<uint32_t>())); break;
            case BINBYTES8: push_text(PyKind::Bytes, length_arg(arg_le<uint64_t>())); break;

            case EMPTY_TUPLE: push_tuple({}); break;
            case TUPLE1: push_tuple_of(1); break;
            case TUPLE2: push_tuple_of(2); break;
            case TUPLE3: push_tuple_of(3); break;
            case TUPLE: push_tuple(pop_mark()); break;
            case EMPTY_LIST: push(make(PyKind::List)); break;
            case LIST: {
                PyValue* list = make(PyKind::List);
                list->items = pop_mark();
                push(list);
                break;
            }
            case APPEND: {
                PyValue* v = pop();
                hold(1);
                container(PyKind::List)->items.push_back(v);
                break;
            }
            case APPENDS: {
                std::vector<const PyValue*> vs = pop_mark();
                PyValue* list = container(PyKind::List);
                list->items.insert(list->items.end(), vs.begin(), vs.end());
                break;
            }
            case EMPTY_DICT: push(make(PyKind::Dict)); break;
            case DICT: {
                std::vector<const PyValue*> kv = pop_mark();
                push(make(PyKind::Dict));
                set_items(std::move(kv));
                break;
            }
            case SETITEM: {
                PyValue* value = pop();
                PyValue* key = pop();
                hold(2);
                set_items({key, value});
                break;
            }
            case SETITEMS: set_items(pop_mark()); break;

            case BINPUT: memo_put(*arg(1)); break;
            case LONG_BINPUT: memo_put(arg_le<uint32_t>()); break;
            case MEMOIZE: memo_put(memo_.size()); break;
            case BINGET: memo_get(*arg(1)); break;
            case LONG_BINGET: memo_get(arg_le<uint32_t>()); break;

            case GLOBAL: {
                std::string module = line_arg();
                std::string name = line_arg();
                push_global(std::move(module), std::move(name));
                break;
            }
            case STACK_GLOBAL: {
                PyValue* name = pop();
                PyValue* module = pop();
                if (module->kind != PyKind::Str || name->kind != PyKind::Str) fail("module and name must be strings");
                push_global(module->text, name->text);
                break;
            }
            case REDUCE: push_call(false); break;
            case NEWOBJ: push_call(true); break;
            case BUILD: {
                PyValue* state = pop();
                PyValue* object = pop();
                PyValue* built = make(PyKind::Build);
                built->object = object;
                built->state = state;
                push(built);
                break;
            }
            case BINPERSID: {
                PyValue* pid = pop();
                PyValue* ref = make(PyKind::PersistentId);
                ref->pid = pid;
                push(ref);
                break;
            }
            default: {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", op_);
                fail(std::string("unknown or unsupported opcode ") + hex);
            }
        }
    }

    const uint8_t* data_;
    size_t size_;
    PickleLimits limits_;
    size_t pos_ = 0;
    size_t op_pos_ = 0;
    uint8_t op_ = 0;
    std::vector<PyValue*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, PyValue*> memo_;
    SizeBudget references_;
    Pickle out_;
};

Pickle parse_pickle(const uint8_t* data, size_t size, const PickleLimits& limits) {
    return PickleMachine(data, size, limits).run();
}

std::string_view kind_name(PyKind kind) {
    switch (kind) {
        case PyKind::None: return "None";
        case PyKind::Bool: return "bool";
        case PyKind::Int: return "int";
        case PyKind::Float: return "float";
        case PyKind::Str: return "str";
        case PyKind::Bytes: return "bytes";
        case PyKind::Tuple: return "tuple";
        case PyKind::List: return "list";
        case PyKind::Dict: return "dict";
        case PyKind::Global: return "global";
        case PyKind::Call: return "call";
        case PyKind::PersistentId: return "persistent id";
        case PyKind::Build: return "built object";
    }
    return "?";
}

namespace {

constexpr size_t kDescribeItems = 4;   // items shown per container
constexpr size_t kDescribeText = 40;   // characters shown per string

std::string describe_items(const std::vector<const PyValue*>& items, int depth) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i == kDescribeItems) return out + ", ...";
        if (i) out += ", ";
        out += describe(items[i], depth);
    }
    return out;
}

}  // namespace

std::string describe(const PyValue* v, int depth) {
    if (!v) return "<null>";
    switch (v->kind) {
        case PyKind::None: return "None";
        case PyKind::Bool: return v->boolean ? "True" : "False";
        case PyKind::Int: return std::to_string(v->integer);
        case PyKind::Float: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%g", v->real);
            return buf;
        }
        case PyKind::Str: return "'" + printable(v->text, kDescribeText) + "'";
        case PyKind::Bytes: return "b'" + printable(v->text, kDescribeText) + "'";
        case PyKind::Global: return printable(v->text, kDescribeText) + "." + printable(v->name, kDescribeText);
        default: break;
    }
    if (depth <= 0) return "...";
    switch (v->kind) {
        case PyKind::Tuple:
            return "(" + describe_items(v->items, depth - 1) + (v->items.size() == 1 ? ",)" : ")");
        case PyKind::List: return "[" + describe_items(v->items, depth - 1) + "]";
        case PyKind::Dict: return "{" + std::to_string(v->entries.size()) + " entries}";
        case PyKind::Call: return describe(v->callable, depth - 1) + "(" + describe_items(v->args->items, depth - 1) + ")";
        case PyKind::PersistentId: return "persistent_id(" + describe(v->pid, depth - 1) + ")";
        case PyKind::Build: return describe(v->object, depth - 1) + " with state";
        default: return "?";
    }
}

}  // namespace mn
