// The BPF half of the addon's exports. Built with or without the skeleton (binding.gyp defines
// ALTRACE_HAVE_BPF when bpf/build.mjs produced one); without it the JS side learns why.
#include "bpf.h"

#ifdef ALTRACE_HAVE_BPF
#include <cstddef>

#include "altrace.h"
#include "bpf_errors.h"
#include "bpf_netns.h"
#include "bpf_object.h"
#endif

namespace altrace {

#ifdef ALTRACE_HAVE_BPF
namespace {

#define ALT_FIELD(object, type, field) object.Set(#field, Napi::Number::New(env, offsetof(type, field)))

// Sizes and offsets of the shared structs as this compiler laid them out: agent/src/bpf/layout.ts
// encodes by its own table and checks it against this one when it loads.
Napi::Value Layout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto describe = [&](size_t size) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("size", Napi::Number::New(env, size));
    return o;
  };
  Napi::Object endpoint = describe(sizeof(alt_endpoint));
  ALT_FIELD(endpoint, alt_endpoint, addr);
  ALT_FIELD(endpoint, alt_endpoint, port);
  Napi::Object exempt = describe(sizeof(alt_exempt_key));
  ALT_FIELD(exempt, alt_exempt_key, kind);
  ALT_FIELD(exempt, alt_exempt_key, id);
  Napi::Object config = describe(sizeof(alt_config));
  ALT_FIELD(config, alt_config, proxy6);
  ALT_FIELD(config, alt_config, proxy4);
  ALT_FIELD(config, alt_config, port4);
  ALT_FIELD(config, alt_config, port6);
  ALT_FIELD(config, alt_config, flags);
  Napi::Object origin = describe(sizeof(alt_origin));
  ALT_FIELD(origin, alt_origin, dest);
  ALT_FIELD(origin, alt_origin, family);
  ALT_FIELD(origin, alt_origin, cgroup_id);
  ALT_FIELD(origin, alt_origin, socket_cookie);
  ALT_FIELD(origin, alt_origin, netns_cookie);
  Napi::Object event = describe(sizeof(alt_event));
  ALT_FIELD(event, alt_event, timestamp_ns);
  ALT_FIELD(event, alt_event, cgroup_id);
  ALT_FIELD(event, alt_event, netns_cookie);
  ALT_FIELD(event, alt_event, socket_cookie);
  ALT_FIELD(event, alt_event, pid);
  ALT_FIELD(event, alt_event, tgid);
  ALT_FIELD(event, alt_event, dest);
  ALT_FIELD(event, alt_event, family);
  ALT_FIELD(event, alt_event, verdict);
  ALT_FIELD(event, alt_event, protocol);
  ALT_FIELD(event, alt_event, comm);
  ALT_FIELD(event, alt_event, source);
  ALT_FIELD(event, alt_event, ifindex);
  Napi::Object net_key = describe(sizeof(alt_net_key));
  ALT_FIELD(net_key, alt_net_key, prefixlen);
  ALT_FIELD(net_key, alt_net_key, addr);
  Napi::Object egress_key = describe(sizeof(alt_egress_key));
  ALT_FIELD(egress_key, alt_egress_key, prefixlen);
  ALT_FIELD(egress_key, alt_egress_key, set);
  ALT_FIELD(egress_key, alt_egress_key, addr);
  Napi::Object allow = describe(sizeof(alt_allow));
  ALT_FIELD(allow, alt_allow, ports);
  Napi::Object dns = describe(sizeof(alt_dns_event));
  ALT_FIELD(dns, alt_dns_event, cgroup_id);
  ALT_FIELD(dns, alt_dns_event, length);
  ALT_FIELD(dns, alt_dns_event, payload);
  Napi::Object stats = describe(sizeof(alt_stats));
  stats.Set("count", Napi::Number::New(env, ALT_STAT_COUNT));
  Napi::Object out = Napi::Object::New(env);
  out.Set("endpoint", endpoint);
  out.Set("exemptKey", exempt);
  out.Set("config", config);
  out.Set("origin", origin);
  out.Set("event", event);
  out.Set("stats", stats);
  out.Set("netKey", net_key);
  out.Set("egressKey", egress_key);
  out.Set("allow", allow);
  out.Set("dnsEvent", dns);
  return out;
}

#undef ALT_FIELD

void SetErrorClass(const Napi::CallbackInfo& info) { bpf::SetErrorClass(info); }

}  // namespace

void RegisterBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfSupported", Napi::Boolean::New(env, true));
  exports.Set("bpfSetErrorClass", Napi::Function::New(env, SetErrorClass, "bpfSetErrorClass"));
  exports.Set("bpfLayout", Napi::Function::New(env, Layout, "bpfLayout"));
  exports.Set("bpfNetnsCookie", Napi::Function::New(env, bpf::NetnsCookie, "bpfNetnsCookie"));
  exports.Set("BpfObject", bpf::BpfObject::Define(env));
}

#else

void RegisterBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfSupported", Napi::Boolean::New(env, false));
  exports.Set("bpfUnsupportedReason",
              Napi::String::New(env, "the native addon was built without BPF support (bpf/build.mjs found no clang, bpftool, libbpf or kernel BTF; see its message from npm ci)"));
}

#endif

}  // namespace altrace
