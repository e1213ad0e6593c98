#pragma once
#include <napi.h>

namespace altrace {

// releaseFreedMemory() -> boolean
// Hands the allocator's free pages back to the kernel (glibc malloc_trim(0)): after a burst of
// large bodies is collected, glibc keeps the freed chunks inside its arenas, where they still
// count as the process's memory. False where the C library has no such call (musl).
Napi::Value ReleaseFreedMemory(const Napi::CallbackInfo& info);

}  // namespace altrace
