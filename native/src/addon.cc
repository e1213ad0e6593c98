// The native addon: thin. JS (agent/src/native.ts) validates every argument and names the
// option at fault; C++ receives primitives. libbpf loading lands here with node enforcement.
#include <napi.h>

#include "bpf.h"
#include "digest.h"
#include "memory.h"
#include "sockets.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  exports.Set("originalDestination", Napi::Function::New(env, altrace::OriginalDestination, "originalDestination"));
  exports.Set("sha256Prefixed", Napi::Function::New(env, altrace::Sha256Prefixed, "sha256Prefixed"));
  exports.Set("releaseFreedMemory", Napi::Function::New(env, altrace::ReleaseFreedMemory, "releaseFreedMemory"));
  exports.Set("allocatorFreeBytes", Napi::Function::New(env, altrace::AllocatorFreeBytes, "allocatorFreeBytes"));
  altrace::RegisterBpf(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(altrace_native, Init)
