#pragma once
// Our own DEFLATE decoder (RFC 1951) with the gzip (RFC 1952) and zlib (RFC 1950) wrappers.
// Used to read .gz data sets (IDX files) and deflated zip entries.
//
// All input is untrusted: every malformed stream becomes an mn::Error with one short line
// (no file path; callers add it), never a crash, a read out of bounds or a hang. max_output
// bounds the decompressed size so that a "zip bomb" is an error, not a huge allocation.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/error.h"

namespace mn {

// More output than the caller's max_output: "decompressed data is larger than the limit of N
// bytes". Its own type so that a caller that knows what the size should be can say so.
class OutputLimitError : public Error {
public:
    using Error::Error;
};

// A raw DEFLATE stream (as inside gzip, zlib and zip). Decodes up to and including the
// final block; bytes after it are not looked at. If consumed is not null it receives the
// number of input bytes the stream used (its last partial byte counts as used).
std::vector<uint8_t> inflate_raw(const uint8_t* data, size_t size, size_t max_output,
                                 size_t* consumed = nullptr);

// A zlib stream: 2-byte header, DEFLATE data, big-endian Adler-32 of the output.
// Preset dictionaries are not supported. The stream must fill the buffer exactly.
std::vector<uint8_t> inflate_zlib(const uint8_t* data, size_t size, size_t max_output);

// True when the buffer starts with the gzip magic and the deflate method byte (1f 8b 08).
bool is_gzip(const uint8_t* data, size_t size);

// A gzip file: one or more members, each with its header (FEXTRA/FNAME/FCOMMENT/FHCRC
// honoured), DEFLATE data and CRC-32 + ISIZE trailer, all checked. Members are concatenated,
// as `gzip -d` does; anything after the last member that is not another member is an error.
// max_output bounds the total over all members.
std::vector<uint8_t> gunzip(const uint8_t* data, size_t size, size_t max_output);

// The first n bytes of what gunzip() would return (fewer if there are fewer), decoding no
// more than that: how a reader looks at a header before it decides how much to inflate. The
// checksums are not checked (the rest of the data is not read).
std::vector<uint8_t> gunzip_prefix(const uint8_t* data, size_t size, size_t n);

// Adler-32 (RFC 1950) of a buffer; exposed for tests.
uint32_t adler32(const uint8_t* data, size_t size);

}  // namespace mn
