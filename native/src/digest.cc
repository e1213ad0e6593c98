#include "digest.h"

// The one-shot SHA256_* calls are deprecated in OpenSSL 3 in favour of EVP, whose per-call
// set-up is what this helper avoids. Node exports them from its own OpenSSL build.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace altrace {

Napi::Value Sha256Prefixed(const Napi::CallbackInfo& info) {
  // JS validated the arguments (agent/src/native.ts): a byte, two Uint8Arrays, a 32-byte output.
  unsigned char prefix = static_cast<unsigned char>(info[0].As<Napi::Number>().Uint32Value());
  Napi::Uint8Array first = info[1].As<Napi::Uint8Array>();
  Napi::Uint8Array second = info[2].As<Napi::Uint8Array>();
  Napi::Uint8Array out = info[3].As<Napi::Uint8Array>();
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, &prefix, 1);
  SHA256_Update(&ctx, first.Data(), first.ByteLength());
  SHA256_Update(&ctx, second.Data(), second.ByteLength());
  SHA256_Final(out.Data(), &ctx);
  return info.Env().Undefined();
}

}  // namespace altrace
