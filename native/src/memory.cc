#include "memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace altrace {

Napi::Value ReleaseFreedMemory(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  // malloc_trim walks every arena and madvises away whole free pages, not only the top of the heap.
  malloc_trim(0);
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

}  // namespace altrace
