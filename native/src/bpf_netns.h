#pragma once
#include <napi.h>

#include <string>

namespace altrace::bpf {

// bpfNetnsCookie(netnsPath | null) -> bigint: the cookie BPF sees for sockets of that network
// namespace (bpf_get_netns_cookie), for the exempt map. null: the caller's own namespace.
Napi::Value NetnsCookie(const Napi::CallbackInfo& info);

// Runs the socket-destroy iterator (its link's fd, duplicated here) inside the network
// namespace at netns_path, on a thread of its own so only that thread ever changes namespace.
// Resolves with a Buffer of the destroyed sockets' cookies (u64 each, host byte order).
Napi::Promise DestroyInNetns(Napi::Env env, int iter_link_fd, const std::string& netns_path);

}  // namespace altrace::bpf
