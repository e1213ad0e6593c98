#pragma once
#include <napi.h>

namespace altrace {

// Adds the BPF half of the addon to exports: bpfSupported (false, with bpfUnsupportedReason,
// when the addon was built without the BPF skeleton), bpfSetErrorClass, bpfLayout,
// bpfNetnsCookie and the BpfObject class (bpf_object.h). agent/src/bpf/ is its only caller.
void RegisterBpf(Napi::Env env, Napi::Object exports);

}  // namespace altrace
