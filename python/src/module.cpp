// calib64._calib64: the standard library's base64 functions over
// calib64::encode_auto / decode_auto, plus choose_encode/choose_decode, settings()
// and bounded-memory file streaming.
//
// The CPython C API directly, not pybind11: at 16 bytes a call is mostly call
// overhead, and binascii.b2a_base64 (an Argument Clinic METH_FASTCALL function) is
// the bar. So: METH_FASTCALL | METH_KEYWORDS with arguments parsed by hand, input
// borrowed through the buffer protocol (no copies), and the result bytes object
// allocated first and encoded into. docs/python.md has the measurements.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <calib64/calib64.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "runtime_bridge.h"
#include "stdlib_compat.h"

#ifndef CALIB64_VERSION
#define CALIB64_VERSION "unknown"
#endif

namespace {

using namespace calib64;
using python::data_chars;

// ------------------------------------------------------------------ state
// Single-phase init: one module object per process, state guarded by the GIL.

PyObject* error_type = nullptr;  // calib64.Error, a subclass of binascii.Error

// Calls with at least this many input bytes (characters for decode) release the
// GIL. Below it, releasing and re-taking it costs more than another thread could
// gain; docs/python.md has the measurement (bench/python_bench.py --gil).
Py_ssize_t gil_release_bytes = 64 * 1024;

// Strict-mode rules of the running interpreter's binascii (see decode_rules).
bool excess_padding_error = false;

// The first encode_auto call resolves the settings (hwloc probe, profile: tens of
// milliseconds); that first call runs without the GIL so other threads go on.
bool settings_resolved = false;

void resolve_settings_without_gil() {
    Py_BEGIN_ALLOW_THREADS
    (void)choose_encode(0);
    Py_END_ALLOW_THREADS
    settings_resolved = true;
}

inline void ensure_settings() {
    if (!settings_resolved) [[unlikely]] resolve_settings_without_gil();
}

// Runs f() with the GIL released when `release`.
template <class F>
auto run_maybe_without_gil(bool release, F&& f) {
    if (!release) return f();
    decltype(f()) r;
    Py_BEGIN_ALLOW_THREADS
    r = f();
    Py_END_ALLOW_THREADS
    return r;
}

// ------------------------------------------------------------------ arguments
// Hand-parsed (public C API only); messages as CPython words them for the Python
// functions of the base64 module.

struct signature {
    const char* function;
    const char* const* names;
    int count;       // parameters
    int positional;  // the first this many may be given by position
    int required;    // the first this many must be given
};

// Keyword names at call sites are interned, so a pointer compare against an interned
// copy of the parameter name usually decides (validate=True costs a few nanoseconds,
// not a string compare per parameter). Interned once, kept for the process.
PyObject* interned_name(const char* name) {
    constexpr int slots = 16;
    static const char* keys[slots];
    static PyObject* values[slots];
    for (int i = 0; i < slots; ++i) {
        if (keys[i] == name) return values[i];
        if (keys[i] == nullptr) {
            values[i] = PyUnicode_InternFromString(name);
            if (values[i] != nullptr) keys[i] = name;
            return values[i];
        }
    }
    return nullptr;  // more names than slots: the string compare below still works
}

int keyword_index(const signature& sig, PyObject* key) {
    for (int i = 0; i < sig.count; ++i)
        if (key == interned_name(sig.names[i])) return i;
    for (int i = 0; i < sig.count; ++i)
        if (PyUnicode_CompareWithASCIIString(key, sig.names[i]) == 0) return i;
    return -1;
}

bool parse_args(const signature& sig, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, PyObject** out) {
    if (nargs > sig.positional) {
        if (sig.positional == sig.required)
            PyErr_Format(PyExc_TypeError, "%s() takes %d positional argument%s but %zd were given", sig.function,
                         sig.positional, sig.positional == 1 ? "" : "s", nargs);
        else
            PyErr_Format(PyExc_TypeError, "%s() takes from %d to %d positional arguments but %zd were given",
                         sig.function, sig.required, sig.positional, nargs);
        return false;
    }
    for (int i = 0; i < sig.count; ++i) out[i] = i < nargs ? args[i] : nullptr;
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; ++k) {
        PyObject* key = PyTuple_GET_ITEM(kwnames, k);
        const int at = keyword_index(sig, key);
        if (at < 0) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", sig.function, key);
            return false;
        }
        if (out[at] != nullptr) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", sig.function, sig.names[at]);
            return false;
        }
        out[at] = args[nargs + k];
    }
    for (int i = 0; i < sig.required; ++i) {
        if (out[i] == nullptr) {
            PyErr_Format(PyExc_TypeError, "%s() missing 1 required positional argument: '%s'", sig.function,
                         sig.names[i]);
            return false;
        }
    }
    return true;
}

// The fast path of the one-argument functions: f(x) with nothing else.
bool parse_one(const char* function, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, PyObject** out) {
    if (nargs == 1 && kwnames == nullptr) [[likely]] {
        *out = args[0];
        return true;
    }
    static const char* const names[] = {"s"};
    return parse_args({function, names, 1, 1, 1}, args, nargs, kwnames, out);
}

PyObject* type_name(PyObject* o) { return PyType_GetName(Py_TYPE(o)); }

// Replaces a pending TypeError (only that) with one whose message is
// `format % type(o).__name__`: how base64.py rewords memoryview()'s complaint.
void reword_type_error(const char* format, PyObject* o) {
    if (!PyErr_ExceptionMatches(PyExc_TypeError)) return;
    PyErr_Clear();
    if (PyObject* name = type_name(o)) {
        PyErr_Format(PyExc_TypeError, format, name);
        Py_DECREF(name);
    }
}

// Python runs with -O: base64.py's `assert len(altchars) == 2` is gone then.
bool asserts_disabled() {
    PyObject* flags = PySys_GetObject("flags");  // borrowed
    PyObject* level = flags ? PyObject_GetAttrString(flags, "optimize") : nullptr;
    const long optimize = level ? PyLong_AsLong(level) : 0;
    Py_XDECREF(level);
    PyErr_Clear();
    return optimize > 0;
}

void raise_assertion(PyObject* shown) {
    if (PyObject* text = PyObject_Repr(shown)) {
        PyErr_SetObject(PyExc_AssertionError, text);
        Py_DECREF(text);
    }
}

// ------------------------------------------------------------------ input bytes

// Bytes borrowed from a Python object for the length of one call: a pointer into
// bytes/str storage, a buffer export (which also stops a bytearray from being
// resized while the GIL is released), or, only for inputs the standard library
// itself copies (a non-contiguous buffer given to b64decode), a private copy.
class input_bytes {
public:
    input_bytes() = default;
    input_bytes(const input_bytes&) = delete;
    input_bytes& operator=(const input_bytes&) = delete;
    ~input_bytes() {
        if (exported_) PyBuffer_Release(&view_);
        PyMem_RawFree(copy_);
    }

    [[nodiscard]] std::string_view text() const noexcept { return {data_, size_}; }
    [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept {
        return {reinterpret_cast<const std::uint8_t*>(data_), size_};
    }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] Py_buffer& view() noexcept { return view_; }

    void borrow(const char* data, Py_ssize_t size) noexcept {
        data_ = data;
        size_ = static_cast<std::size_t>(size);
    }
    // PyObject_GetBuffer(o, flags); false with its exception set.
    bool export_from(PyObject* o, int flags) {
        if (PyObject_GetBuffer(o, &view_, flags) != 0) return false;
        exported_ = true;
        borrow(static_cast<const char*>(view_.buf), view_.len);
        return true;
    }
    // The exported view, in C order, as a private copy (memoryview.tobytes()).
    bool copy_view() {
        copy_ = static_cast<char*>(PyMem_RawMalloc(view_.len > 0 ? static_cast<std::size_t>(view_.len) : 1));
        if (copy_ == nullptr) {
            PyErr_NoMemory();
            return false;
        }
        if (view_.ndim == 1 && view_.strides != nullptr && view_.suboffsets == nullptr) {
            // One strided dimension (a[::2]): PyBuffer_ToContiguous copies item by
            // item through a generic index walk, several times slower.
            const auto* src = static_cast<const char*>(view_.buf);
            const Py_ssize_t item = view_.itemsize, stride = view_.strides[0];
            const Py_ssize_t n = view_.shape[0];
            if (item == 1)
                for (Py_ssize_t i = 0; i < n; ++i) copy_[i] = src[i * stride];
            else
                for (Py_ssize_t i = 0; i < n; ++i) std::memcpy(copy_ + i * item, src + i * stride, item);
        } else if (PyBuffer_ToContiguous(copy_, &view_, view_.len, 'C') != 0) {
            return false;
        }
        borrow(copy_, view_.len);
        return true;
    }
    void release_view() noexcept {
        if (exported_) PyBuffer_Release(&view_);
        exported_ = false;
    }

private:
    Py_buffer view_{};
    bool exported_ = false;
    char* copy_ = nullptr;
    const char* data_ = "";
    std::size_t size_ = 0;
};

// What binascii.b2a_base64 accepts: a C-contiguous buffer (PyBUF_SIMPLE).
bool encode_input(PyObject* s, input_bytes& in) {
    if (PyBytes_Check(s)) [[likely]] {
        in.borrow(PyBytes_AS_STRING(s), PyBytes_GET_SIZE(s));
        return true;
    }
    return in.export_from(s, PyBUF_SIMPLE);
}

// base64._bytes_from_decode_data: an ASCII str, bytes, bytearray, or anything
// memoryview() takes (any layout: the standard library copies it with tobytes()).
bool decode_input(PyObject* s, input_bytes& in) {
    if (PyBytes_Check(s)) [[likely]] {
        in.borrow(PyBytes_AS_STRING(s), PyBytes_GET_SIZE(s));
        return true;
    }
    if (PyUnicode_Check(s)) {
#if PY_VERSION_HEX < 0x030C0000
        if (PyUnicode_READY(s) < 0) return false;  // a legacy string built by a deprecated API
#endif
        if (!PyUnicode_IS_ASCII(s)) {
            PyErr_SetString(PyExc_ValueError, "string argument should contain only ASCII characters");
            return false;
        }
        in.borrow(reinterpret_cast<const char*>(PyUnicode_1BYTE_DATA(s)), PyUnicode_GET_LENGTH(s));
        return true;
    }
    if (PyByteArray_Check(s)) return in.export_from(s, PyBUF_SIMPLE);
    if (!in.export_from(s, PyBUF_FULL_RO)) {
        reword_type_error("argument should be a bytes-like object or ASCII string, not %R", s);
        return false;
    }
    return PyBuffer_IsContiguous(&in.view(), 'C') ? true : in.copy_view();
}

// base64._input_type_check (encodebytes/decodebytes): memoryview(s) must work and be
// 1-D single bytes. Then what the standard library does with the object itself:
// encodebytes slices it into 57-byte pieces for b2a_base64, decodebytes hands it to
// a2b_base64; both need C-contiguous pieces.
bool mime_input(PyObject* s, input_bytes& in, bool encoding) {
    if (PyBytes_Check(s)) [[likely]] {
        in.borrow(PyBytes_AS_STRING(s), PyBytes_GET_SIZE(s));
        return true;
    }
    if (!in.export_from(s, PyBUF_FULL_RO)) {
        reword_type_error("expected bytes-like object, not %S", s);
        return false;
    }
    const Py_buffer& v = in.view();
    const char* format = v.format ? v.format : "B";
    if (std::strcmp(format, "c") != 0 && std::strcmp(format, "b") != 0 && std::strcmp(format, "B") != 0) {
        PyObject* name = type_name(s);
        if (name) PyErr_Format(PyExc_TypeError, "expected single byte elements, not '%s' from %S", format, name);
        Py_XDECREF(name);
        return false;
    }
    if (v.ndim != 1) {
        PyObject* name = type_name(s);
        if (name) PyErr_Format(PyExc_TypeError, "expected 1-D data, not %d-D data from %S", v.ndim, name);
        Py_XDECREF(name);
        return false;
    }
    if (encoding) {
        if (PyBuffer_IsContiguous(&v, 'C')) return true;
        // Strided. A piece of one element is contiguous again, so encodebytes of a
        // 1-element view works in the standard library; anything longer fails there
        // with the exporter's own error, which PyBUF_SIMPLE reproduces.
        if (v.len <= 1) return in.copy_view();
        in.release_view();
        return in.export_from(s, PyBUF_SIMPLE);
    }
    // a2b_base64 asks for PyBUF_SIMPLE (an empty strided memoryview refuses it too).
    in.release_view();
    if (in.export_from(s, PyBUF_SIMPLE)) return true;
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "argument should be bytes, buffer or ASCII string, not '%.100s'",
                 Py_TYPE(s)->tp_name);
    return false;
}

// ------------------------------------------------------------------ results and errors

void raise_error(PyObject* message, std::size_t offset, std::string_view reason) {
    if (message == nullptr) return;
    PyObject* exc = PyObject_CallOneArg(error_type, message);
    Py_DECREF(message);
    if (exc == nullptr) return;
    PyObject* at = PyLong_FromSize_t(offset);
    PyObject* why = PyUnicode_FromStringAndSize(reason.data(), static_cast<Py_ssize_t>(reason.size()));
    if (at && why && PyObject_SetAttrString(exc, "offset", at) == 0 && PyObject_SetAttrString(exc, "reason", why) == 0)
        PyErr_SetObject(error_type, exc);
    Py_XDECREF(at);
    Py_XDECREF(why);
    Py_DECREF(exc);
}

void raise_decode_error(const python::compat_result& r) {
    PyObject* message = r.data_chars_before > 0 ? PyUnicode_FromFormat(r.message, r.data_chars_before)
                                                : PyUnicode_FromString(r.message);
    raise_error(message, r.offset, describe(r.code));
}

// Largest input whose encoding (plus one '\n' per 57 bytes) fits a bytes object.
constexpr std::size_t max_encode_input = static_cast<std::size_t>(PY_SSIZE_T_MAX) / 4 * 3 / 78 * 57;

PyObject* new_bytes(std::size_t size) {
    if (size > static_cast<std::size_t>(PY_SSIZE_T_MAX)) return PyErr_NoMemory();
    return PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(size));
}

char* bytes_data(PyObject* b) { return PyBytes_AS_STRING(b); }

PyObject* codec_failure(status code) {
    PyErr_Format(PyExc_RuntimeError, "calib64: %s", std::string(describe(code)).c_str());
    return nullptr;
}

// ------------------------------------------------------------------ encode

// `n` bytes into `out` (encoded_length(n) characters), the GIL released when it pays.
encode_result encode_into(std::span<const std::uint8_t> in, char* out, alphabet alpha) {
    ensure_settings();
    const encode_options o{.alpha = alpha};
    return run_maybe_without_gil(static_cast<Py_ssize_t>(in.size()) >= gil_release_bytes, [&] {
        return encode_auto(in, {out, encoded_length(in.size())}, o);
    });
}

PyObject* encode_to_bytes(const input_bytes& in, alphabet alpha) {
    if (in.size() > max_encode_input) return PyErr_NoMemory();
    PyObject* out = new_bytes(encoded_length(in.size()));
    if (out == nullptr) return nullptr;
    const encode_result r = encode_into(in.bytes(), bytes_data(out), alpha);
    if (!r.ok()) {
        Py_DECREF(out);
        return codec_failure(r.code);
    }
    return out;
}

// binascii.b2a_base64 per 57-byte line, each line followed by '\n' (encodebytes).
// One encode_auto call into the tail of the result, then the lines are moved
// forward into place: line k goes from lines + 76k to 77k, never past a line not yet
// moved, so one pass in order suffices.
PyObject* encode_lines(const input_bytes& in) {
    constexpr std::size_t line_bytes = 57, line_chars = 76;
    if (in.size() > max_encode_input) return PyErr_NoMemory();
    const std::size_t lines = (in.size() + line_bytes - 1) / line_bytes;
    const std::size_t chars = encoded_length(in.size());
    PyObject* out = new_bytes(chars + lines);
    if (out == nullptr) return nullptr;
    char* o = bytes_data(out);
    const encode_result r = encode_into(in.bytes(), o + lines, alphabet::standard);
    if (!r.ok()) {
        Py_DECREF(out);
        return codec_failure(r.code);
    }
    run_maybe_without_gil(static_cast<Py_ssize_t>(in.size()) >= gil_release_bytes, [&] {
        for (std::size_t k = 0; k < lines; ++k) {
            const std::size_t n = k + 1 < lines ? line_chars : chars - k * line_chars;
            std::memmove(o + k * (line_chars + 1), o + lines + k * line_chars, n);
            o[k * (line_chars + 1) + n] = '\n';
        }
        return 0;
    });
    return out;
}

// b64encode's altchars: `assert len(altchars) == 2`, then bytes.maketrans(b"+/", altchars).
bool encode_altchars(PyObject* alt, char out[2]) {
    const Py_ssize_t len = PyObject_Length(alt);
    if (len < 0) return false;
    if (len != 2 && !asserts_disabled()) {
        raise_assertion(alt);
        return false;
    }
    Py_buffer v;
    if (PyObject_GetBuffer(alt, &v, PyBUF_SIMPLE) != 0) return false;
    const bool two = v.len == 2;
    if (two) std::memcpy(out, v.buf, 2);
    PyBuffer_Release(&v);
    if (!two) PyErr_SetString(PyExc_ValueError, "maketrans arguments must have same length");
    return two;
}

// ------------------------------------------------------------------ decode

PyObject* decode_to_bytes(std::string_view text, data_chars chars, bool strict) {
    const python::decode_rules rules{.chars = chars, .strict = strict, .excess_padding_error = excess_padding_error};
    ensure_settings();
    const std::size_t cap = python::decoded_size_bound(text);
    PyObject* out = new_bytes(cap);
    if (out == nullptr) return nullptr;
    auto* o = reinterpret_cast<std::uint8_t*>(bytes_data(out));
    const python::compat_result r = run_maybe_without_gil(
        static_cast<Py_ssize_t>(text.size()) >= gil_release_bytes,
        [&] { return python::stdlib_decode(text, rules, o); });
    if (!r.ok) {
        Py_DECREF(out);
        raise_decode_error(r);
        return nullptr;
    }
    if (r.written != cap && _PyBytes_Resize(&out, static_cast<Py_ssize_t>(r.written)) != 0) return nullptr;
    return out;
}

// a2b_base64's strict_mode argument: an int (bool included), as _PyLong_AsInt takes it.
bool strict_flag(PyObject* validate, bool* strict) {
    if (validate == nullptr || validate == Py_False) return *strict = false, true;
    if (validate == Py_True) return *strict = true, true;
    const long v = PyLong_AsLong(validate);
    if (v == -1 && PyErr_Occurred()) return false;
    if (v > INT_MAX || v < INT_MIN) {
        PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to C int");
        return false;
    }
    *strict = v != 0;
    return true;
}

// b64decode's altchars, converted like s; "-_" and "+/" need no translation.
// Otherwise *translated gets a translated copy of `in` (bytes.translate, as base64.py does).
bool apply_decode_altchars(PyObject* alt, const input_bytes& in, data_chars* chars, std::string* translated) {
    input_bytes a;
    if (!decode_input(alt, a)) return false;
    if (a.size() != 2) {
        if (!asserts_disabled()) {
            PyObject* shown = PyBytes_Check(alt) || PyByteArray_Check(alt)
                                  ? Py_NewRef(alt)
                                  : PyBytes_FromStringAndSize(a.text().data(), static_cast<Py_ssize_t>(a.size()));
            if (shown) raise_assertion(shown);
            Py_XDECREF(shown);
        } else {
            PyErr_SetString(PyExc_ValueError, "maketrans arguments must have same length");
        }
        return false;
    }
    const std::string_view pair = a.text();
    if (pair == "+/") return true;
    if (pair == "-_") return *chars = data_chars::standard_url, true;
    char table[256];
    for (int i = 0; i < 256; ++i) table[i] = static_cast<char>(i);
    table[static_cast<unsigned char>(pair[0])] = '+';
    table[static_cast<unsigned char>(pair[1])] = '/';
    try {
        translated->resize(in.size());
    } catch (const std::bad_alloc&) {
        PyErr_NoMemory();
        return false;
    }
    const std::string_view src = in.text();
    for (std::size_t i = 0; i < src.size(); ++i) (*translated)[i] = table[static_cast<unsigned char>(src[i])];
    return true;
}

// ------------------------------------------------------------------ the base64 functions

PyObject* py_b64encode(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static const char* const names[] = {"s", "altchars"};
    PyObject* a[2] = {nullptr, nullptr};
    if (nargs == 1 && kwnames == nullptr) [[likely]]
        a[0] = args[0];
    else if (!parse_args({"b64encode", names, 2, 2, 1}, args, nargs, kwnames, a))
        return nullptr;
    input_bytes in;
    if (!encode_input(a[0], in)) return nullptr;
    if (a[1] == nullptr || a[1] == Py_None) return encode_to_bytes(in, alphabet::standard);
    char alt[2];
    if (!encode_altchars(a[1], alt)) return nullptr;
    if (alt[0] == '-' && alt[1] == '_') return encode_to_bytes(in, alphabet::url);
    PyObject* out = encode_to_bytes(in, alphabet::standard);
    if (out == nullptr || (alt[0] == '+' && alt[1] == '/')) return out;
    char* o = bytes_data(out);
    for (Py_ssize_t i = 0, n = PyBytes_GET_SIZE(out); i < n; ++i) o[i] = o[i] == '+' ? alt[0] : o[i] == '/' ? alt[1] : o[i];
    return out;
}

PyObject* py_b64decode(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static const char* const names[] = {"s", "altchars", "validate"};
    PyObject* a[3] = {nullptr, nullptr, nullptr};
    if (nargs == 1 && kwnames == nullptr) [[likely]]
        a[0] = args[0];
    else if (!parse_args({"b64decode", names, 3, 3, 1}, args, nargs, kwnames, a))
        return nullptr;
    input_bytes in;
    if (!decode_input(a[0], in)) return nullptr;
    data_chars chars = data_chars::standard;
    std::string translated;  // stays empty unless altchars need a translated copy
    if (a[1] != nullptr && a[1] != Py_None && !apply_decode_altchars(a[1], in, &chars, &translated)) return nullptr;
    bool strict = false;
    if (!strict_flag(a[2], &strict)) return nullptr;
    return decode_to_bytes(translated.empty() ? in.text() : std::string_view(translated), chars, strict);
}

PyObject* py_standard_b64encode(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* s;
    input_bytes in;
    if (!parse_one("standard_b64encode", args, nargs, kwnames, &s) || !encode_input(s, in)) return nullptr;
    return encode_to_bytes(in, alphabet::standard);
}

PyObject* py_standard_b64decode(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* s;
    input_bytes in;
    if (!parse_one("standard_b64decode", args, nargs, kwnames, &s) || !decode_input(s, in)) return nullptr;
    return decode_to_bytes(in.text(), data_chars::standard, false);
}

PyObject* py_urlsafe_b64encode(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* s;
    input_bytes in;
    if (!parse_one("urlsafe_b64encode", args, nargs, kwnames, &s) || !encode_input(s, in)) return nullptr;
    return encode_to_bytes(in, alphabet::url);
}

PyObject* py_urlsafe_b64decode(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* s;
    input_bytes in;
    if (!parse_one("urlsafe_b64decode", args, nargs, kwnames, &s) || !decode_input(s, in)) return nullptr;
    return decode_to_bytes(in.text(), data_chars::standard_url, false);
}

PyObject* py_encodebytes(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* s;
    input_bytes in;
    if (!parse_one("encodebytes", args, nargs, kwnames, &s) || !mime_input(s, in, true)) return nullptr;
    return encode_lines(in);
}

PyObject* py_decodebytes(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* s;
    input_bytes in;
    if (!parse_one("decodebytes", args, nargs, kwnames, &s) || !mime_input(s, in, false)) return nullptr;
    return decode_to_bytes(in.text(), data_chars::standard, false);
}

// ------------------------------------------------------------------ what runs, and why

bool size_arg(PyObject* o, std::size_t* n) {
    PyObject* index = PyNumber_Index(o);
    if (index == nullptr) return false;
    const Py_ssize_t v = PyLong_AsSsize_t(index);
    Py_DECREF(index);
    if (v == -1 && PyErr_Occurred()) return false;
    if (v < 0) {
        PyErr_SetString(PyExc_ValueError, "size must not be negative");
        return false;
    }
    *n = static_cast<std::size_t>(v);
    return true;
}

PyObject* choice_dict(const choice& c) {
    const std::string_view how = backend_name(c.how), kernel = kernel_name(c.kernel);
    return Py_BuildValue("{s:s#,s:s#,s:I,s:n,s:O}", "backend", how.data(), static_cast<Py_ssize_t>(how.size()),
                         "kernel", kernel.data(), static_cast<Py_ssize_t>(kernel.size()), "threads", c.par.threads,
                         "chunk_bytes", static_cast<Py_ssize_t>(c.par.chunk_bytes), "pin_threads",
                         c.par.pin_threads ? Py_True : Py_False);
}

template <choice (*choose)(std::size_t) noexcept>
PyObject* py_choose(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static const char* const names[] = {"n"};
    PyObject* a[1];
    std::size_t n = 0;
    if (!parse_args({choose == &choose_encode ? "choose_encode" : "choose_decode", names, 1, 1, 1}, args, nargs,
                    kwnames, a) ||
        !size_arg(a[0], &n))
        return nullptr;
    ensure_settings();
    return choice_dict(choose(n));
}

PyObject* str_or_none(const std::string& s) {
    return s.empty() ? Py_NewRef(Py_None) : PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
}

PyObject* py_settings(PyObject*, PyObject*) {
    ensure_settings();
    python::settings_snapshot s;
    try {
        s = python::current_settings_snapshot();
    } catch (const std::bad_alloc&) {
        return PyErr_NoMemory();
    }
    PyObject* rows = PyList_New(0);
    PyObject* messages = PyList_New(0);
    bool ok = rows && messages;
    for (std::size_t i = 0; ok && i < s.lines.size(); ++i) {
        const python::setting_line& l = s.lines[i];
        PyObject* row = Py_BuildValue("{s:s,s:s,s:s,s:N}", "name", l.name.c_str(), "value", l.value.c_str(), "origin",
                                      l.origin.c_str(), "note", str_or_none(l.note));
        ok = row && PyList_Append(rows, row) == 0;
        Py_XDECREF(row);
    }
    for (std::size_t i = 0; ok && i < s.messages.size(); ++i) {
        PyObject* m = PyUnicode_DecodeUTF8(s.messages[i].data(), static_cast<Py_ssize_t>(s.messages[i].size()), "replace");
        ok = m && PyList_Append(messages, m) == 0;
        Py_XDECREF(m);
    }
    if (!ok) {
        Py_XDECREF(rows);
        Py_XDECREF(messages);
        return nullptr;
    }
    return Py_BuildValue("{s:N,s:s,s:N,s:N}", "profile", str_or_none(s.profile_path), "status",
                         s.profile_status.c_str(), "rows", rows, "messages", messages);
}

// ------------------------------------------------------------------ files

// str, bytes or os.PathLike, as the file system encodes it.
bool path_arg(PyObject* o, PyObject** encoded, std::string* path) {
    if (!PyUnicode_FSConverter(o, encoded)) return false;
    path->assign(PyBytes_AS_STRING(*encoded), static_cast<std::size_t>(PyBytes_GET_SIZE(*encoded)));
    if (path->find('\0') != std::string::npos) {
        PyErr_SetString(PyExc_ValueError, "embedded null byte");
        return false;
    }
    return true;
}

PyObject* stream_outcome(const stream_result& r, PyObject* src, PyObject* dst) {
    switch (r.failure) {
        case stream_failure::none:
            return Py_BuildValue("(KK)", static_cast<unsigned long long>(r.bytes_read),
                                 static_cast<unsigned long long>(r.bytes_written));
        case stream_failure::codec:
            raise_error(PyUnicode_DecodeUTF8(r.message.data(), static_cast<Py_ssize_t>(r.message.size()), "replace"),
                        static_cast<std::size_t>(r.offset), describe(r.code));
            return nullptr;
        default: {
            const bool input_side = r.failure == stream_failure::open_input || r.failure == stream_failure::read;
            // OSError(errno, strerror, filename) picks the subclass (FileNotFoundError, ...).
            PyObject* exc = r.error_number != 0
                                ? PyObject_CallFunction(PyExc_OSError, "isO", r.error_number,
                                                        std::strerror(r.error_number), input_side ? src : dst)
                                : PyObject_CallFunction(PyExc_OSError, "s", r.message.c_str());
            if (exc) {
                PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc)), exc);
                Py_DECREF(exc);
            }
            return nullptr;
        }
    }
}

// decode_file's ignore= word.
bool ignore_arg(PyObject* o, ignore* skip) {
    static const char* const words[] = {"none", "whitespace", "non_alphabet"};
    if (o == nullptr) return true;
    for (int i = 0; i < 3; ++i) {
        if (PyUnicode_Check(o) && PyUnicode_CompareWithASCIIString(o, words[i]) == 0) {
            *skip = static_cast<ignore>(i);
            return true;
        }
    }
    PyErr_Format(PyExc_ValueError, "ignore must be 'none', 'whitespace' or 'non_alphabet', not %R", o);
    return false;
}

template <bool encoding>
PyObject* py_file(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static const char* const names[] = {"src", "dst", "urlsafe", encoding ? "wrap" : "ignore"};
    PyObject* a[4] = {nullptr, nullptr, nullptr, nullptr};
    if (!parse_args({encoding ? "encode_file" : "decode_file", names, 4, 2, 2}, args, nargs, kwnames, a)) return nullptr;
    const int urlsafe = a[2] ? PyObject_IsTrue(a[2]) : 0;
    if (urlsafe < 0) return nullptr;
    stream_options stream;
    decode_options dec{.alpha = urlsafe ? alphabet::url : alphabet::standard, .skip = ignore::whitespace};
    if constexpr (encoding) {
        if (a[3] != nullptr) {
            std::size_t wrap = 0;
            if (!size_arg(a[3], &wrap)) return nullptr;
            stream.wrap_columns = wrap;
        }
    } else {
        if (!ignore_arg(a[3], &dec.skip)) return nullptr;
    }
    PyObject *src_bytes = nullptr, *dst_bytes = nullptr;
    std::string src, dst;
    PyObject* result = nullptr;
    if (path_arg(a[0], &src_bytes, &src) && path_arg(a[1], &dst_bytes, &dst)) {
        ensure_settings();
        stream_result r;
        bool no_memory = false;
        Py_BEGIN_ALLOW_THREADS
        try {
            r = encoding ? encode_file(src, dst, {.alpha = dec.alpha}, stream) : decode_file(src, dst, dec, stream);
        } catch (...) {
            no_memory = true;
        }
        Py_END_ALLOW_THREADS
        result = no_memory ? PyErr_NoMemory() : stream_outcome(r, a[0], a[1]);
    }
    Py_XDECREF(src_bytes);
    Py_XDECREF(dst_bytes);
    return result;
}

// Tests and bench/python_bench.py: read or set the GIL release threshold.
PyObject* py_gil_threshold(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs > 1) return PyErr_Format(PyExc_TypeError, "_gil_threshold() takes at most 1 argument");
    const Py_ssize_t old = gil_release_bytes;
    if (nargs == 1) {
        std::size_t n = 0;
        if (!size_arg(args[0], &n)) return nullptr;
        gil_release_bytes = n > static_cast<std::size_t>(PY_SSIZE_T_MAX) ? PY_SSIZE_T_MAX : static_cast<Py_ssize_t>(n);
    }
    return PyLong_FromSsize_t(old);
}

// ------------------------------------------------------------------ module

#define FASTCALL_KW(f) reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f)), METH_FASTCALL | METH_KEYWORDS

PyMethodDef methods[] = {
    {"b64encode", FASTCALL_KW(py_b64encode),
     "b64encode($module, /, s, altchars=None)\n--\n\n"
     "Encode the bytes-like object s with Base64 and return a bytes object.\n\n"
     "Same result and errors as base64.b64encode. altchars, when given, is a bytes-like\n"
     "object of length 2 used instead of '+' and '/'."},
    {"b64decode", FASTCALL_KW(py_b64decode),
     "b64decode($module, /, s, altchars=None, validate=False)\n--\n\n"
     "Decode the Base64 bytes-like object or ASCII string s and return bytes.\n\n"
     "Same result and errors as base64.b64decode: without validate, bytes outside the\n"
     "alphabet are discarded and decoding stops after the first padded quantum; with\n"
     "validate, anything but the alphabet and final padding raises. Errors raise\n"
     "calib64.Error (a binascii.Error) with .offset and .reason."},
    {"standard_b64encode", FASTCALL_KW(py_standard_b64encode),
     "standard_b64encode($module, /, s)\n--\n\nEncode s with the standard alphabet (base64.standard_b64encode)."},
    {"standard_b64decode", FASTCALL_KW(py_standard_b64decode),
     "standard_b64decode($module, /, s)\n--\n\nDecode s with the standard alphabet (base64.standard_b64decode)."},
    {"urlsafe_b64encode", FASTCALL_KW(py_urlsafe_b64encode),
     "urlsafe_b64encode($module, /, s)\n--\n\nEncode s with the URL-safe alphabet, '-' and '_' "
     "(base64.urlsafe_b64encode)."},
    {"urlsafe_b64decode", FASTCALL_KW(py_urlsafe_b64decode),
     "urlsafe_b64decode($module, /, s)\n--\n\nDecode URL-safe Base64 (base64.urlsafe_b64decode); like the "
     "standard library\nit also accepts '+' and '/'."},
    {"encodebytes", FASTCALL_KW(py_encodebytes),
     "encodebytes($module, /, s)\n--\n\nEncode s as MIME Base64: lines of 76 characters, each ending in "
     "b'\\n'\n(base64.encodebytes)."},
    {"decodebytes", FASTCALL_KW(py_decodebytes),
     "decodebytes($module, /, s)\n--\n\nDecode MIME Base64 (base64.decodebytes)."},
    {"choose_encode", FASTCALL_KW(py_choose<&choose_encode>),
     "choose_encode($module, /, n)\n--\n\n"
     "What encoding n bytes runs: a dict with backend, kernel, threads, chunk_bytes and\n"
     "pin_threads (threads and chunk_bytes 0: the library's defaults)."},
    {"choose_decode", FASTCALL_KW(py_choose<&choose_decode>),
     "choose_decode($module, /, n)\n--\n\nWhat decoding n characters runs (see choose_encode)."},
    {"settings", py_settings, METH_NOARGS,
     "settings($module, /)\n--\n\n"
     "The settings encode_auto/decode_auto use in this process and where each came\n"
     "from, as `calib64 profile show` prints them: a dict with profile (path or None),\n"
     "status, rows (name, value, origin, note) and messages."},
    {"encode_file", FASTCALL_KW(py_file<true>),
     "encode_file($module, /, src, dst, urlsafe=False, wrap=0)\n--\n\n"
     "Encode file src into file dst in bounded memory, the GIL released. wrap: a\n"
     "newline after every wrap characters and at the end (0: none). '-' is stdin or\n"
     "stdout. Returns (bytes_read, bytes_written). I/O errors raise OSError; dst is\n"
     "replaced only on success."},
    {"decode_file", FASTCALL_KW(py_file<false>),
     "decode_file($module, /, src, dst, urlsafe=False, ignore='whitespace')\n--\n\n"
     "Decode file src into file dst in bounded memory, the GIL released. ignore:\n"
     "'none', 'whitespace' or 'non_alphabet'; padding is required. Invalid input raises\n"
     "calib64.Error with the absolute .offset; I/O errors raise OSError."},
    {"_gil_threshold", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_gil_threshold)), METH_FASTCALL,
     "_gil_threshold($module, n=None, /)\n--\n\nThe GIL release threshold in bytes (returns the old one; sets n)."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "calib64._calib64",
    "base64 for Python over calib64: the standard library's functions, calibrated per host.", -1, methods,
    nullptr, nullptr, nullptr, nullptr,
};

// Whether this interpreter's strict a2b_base64 refuses '=' after a whole quantum.
bool probe_excess_padding_error(PyObject* binascii) {
    PyObject* result = PyObject_CallMethod(binascii, "a2b_base64", "y", "AAAA=");  // lenient: always fine
    PyObject* strict = nullptr;
    if (result) {
        Py_DECREF(result);
        PyObject* args = Py_BuildValue("(y)", "AAAA=");
        PyObject* kwargs = Py_BuildValue("{s:O}", "strict_mode", Py_True);
        PyObject* f = PyObject_GetAttrString(binascii, "a2b_base64");
        strict = args && kwargs && f ? PyObject_Call(f, args, kwargs) : nullptr;
        Py_XDECREF(args);
        Py_XDECREF(kwargs);
        Py_XDECREF(f);
    }
    const bool refused = result != nullptr && strict == nullptr;  // result: only tested for null
    Py_XDECREF(strict);
    PyErr_Clear();
    return refused;
}

PyObject* make_error_type() {
    PyObject* binascii = PyImport_ImportModule("binascii");
    if (binascii == nullptr) return nullptr;
    excess_padding_error = probe_excess_padding_error(binascii);
    PyObject* base = PyObject_GetAttrString(binascii, "Error");
    Py_DECREF(binascii);
    if (base == nullptr) return nullptr;
    PyObject* attrs = Py_BuildValue("{s:O,s:O}", "offset", Py_None, "reason", Py_None);
    PyObject* type = attrs ? PyErr_NewExceptionWithDoc(
                                 "calib64.Error",
                                 "Invalid Base64 input: a binascii.Error with .offset (input offset the error is\n"
                                 "about) and .reason (plain words, e.g. 'invalid character').",
                                 base, attrs)
                           : nullptr;
    Py_DECREF(base);
    Py_XDECREF(attrs);
    return type;
}

}  // namespace

PyMODINIT_FUNC PyInit__calib64() {
    PyObject* m = PyModule_Create(&module_def);
    if (m == nullptr) return nullptr;
    if (error_type == nullptr) error_type = make_error_type();
    if (error_type == nullptr || PyModule_AddObjectRef(m, "Error", error_type) < 0 ||
        PyModule_AddStringConstant(m, "__version__", CALIB64_VERSION) < 0) {
        Py_DECREF(m);
        return nullptr;
    }
    return m;
}
