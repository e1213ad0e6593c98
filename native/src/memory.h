#pragma once
#include <napi.h>

namespace altrace {

// releaseFreedMemory() -> boolean
// Hands the allocator's free pages back to the kernel (glibc malloc_trim(0)): after a burst of
// large bodies is collected, glibc keeps the freed chunks inside its arenas, where they still
// count as the process's memory. False where the C library has no such call (musl).
Napi::Value ReleaseFreedMemory(const Napi::CallbackInfo& info);

// allocatorFreeBytes() -> number
// Bytes the C allocator holds freed in its arenas (glibc mallinfo2's fordblks), what
// releaseFreedMemory can hand back; -1 where the C library cannot say. Freed chunks stay after
// a burst of JIT compilation or request buffers, and count in the process's RSS until trimmed.
Napi::Value AllocatorFreeBytes(const Napi::CallbackInfo& info);

}  // namespace altrace
