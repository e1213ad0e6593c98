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

Napi::Value AllocatorFreeBytes(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  // Summed over every arena: chunks freed but kept, the part malloc_trim can give back.
  struct mallinfo2 m = mallinfo2();
  return Napi::Number::New(info.Env(), static_cast<double>(m.fordblks));
#else
  return Napi::Number::New(info.Env(), -1);
#endif
}

}  // namespace altrace
