#pragma once
#include <napi.h>

namespace altrace {

// originalDestination(fd) -> { address, port } | null
// The pre-NAT destination of a REDIRECTed connection (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST):
// what the nftables fallback gives the transparent listener instead of the BPF cookie map.
Napi::Value OriginalDestination(const Napi::CallbackInfo& info);

}  // namespace altrace
