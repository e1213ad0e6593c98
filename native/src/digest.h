#pragma once
#include <napi.h>

namespace altrace {

// sha256Prefixed(prefix, first, second, out) -> undefined
// SHA-256 of one prefix byte followed by first and then second (either may be empty), written
// into out[0..32). The audit log's Merkle hashes (RFC 6962: 0x00 || record, 0x01 || left || right)
// without a copy. node:crypto pays OpenSSL 3's per-call context set-up (~2 µs, more than the
// hashing itself for a record); this is the same OpenSSL that Node links, without that set-up.
Napi::Value Sha256Prefixed(const Napi::CallbackInfo& info);

}  // namespace altrace
