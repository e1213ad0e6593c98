#pragma once
#include <napi.h>

#include <cstdint>
#include <map>
#include <memory>

#include "bpf_events.h"

struct altrace_bpf;  // the skeleton; named apart from namespace altrace
struct bpf_link;
struct bpf_map;

namespace altrace::bpf {

// One loaded copy of the programs and maps (the bpftool skeleton of bpf/.output/altrace.bpf.o):
// new BpfObject(pinDir | null). Methods take primitives that agent/src/bpf/ already validated
// and encoded. close() frees everything and may be called again; it also runs when the env
// tears down (a worker thread exiting) and when the object is collected.
class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit BpfObject(const Napi::CallbackInfo& info);
  ~BpfObject() override;

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Programs(const Napi::CallbackInfo& info);
  Napi::Value AttachCgroup(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value PinLink(const Napi::CallbackInfo& info);
  Napi::Value MapUpdate(const Napi::CallbackInfo& info);
  Napi::Value MapLookup(const Napi::CallbackInfo& info);
  Napi::Value MapDelete(const Napi::CallbackInfo& info);
  Napi::Value PinMaps(const Napi::CallbackInfo& info);
  Napi::Value UnpinMaps(const Napi::CallbackInfo& info);
  Napi::Value StartEvents(const Napi::CallbackInfo& info);
  Napi::Value StopEvents(const Napi::CallbackInfo& info);
  Napi::Value RefEvents(const Napi::CallbackInfo& info);
  Napi::Value EventsLost(const Napi::CallbackInfo& info);
  Napi::Value DestroyKilled(const Napi::CallbackInfo& info);
  Napi::Value AttachTcx(const Napi::CallbackInfo& info);
  Napi::Value MapKeys(const Napi::CallbackInfo& info);
  Napi::Value StartDns(const Napi::CallbackInfo& info);
  Napi::Value StopDns(const Napi::CallbackInfo& info);
  Napi::Value TestRun(const Napi::CallbackInfo& info);

  void Load(Napi::Env env, const std::string& pin_dir);
  void Release();
  void RequireOpen(Napi::Env env) const;
  bpf_map* FindMap(Napi::Env env, const Napi::Value& name) const;
  static void OnEnvTeardown(void* self);

  altrace_bpf* skel_ = nullptr;
  bpf_link* iter_link_ = nullptr;
  std::map<uint32_t, bpf_link*> links_;
  // tcx links: libbpf 1.1 has no bpf_link for them, so the kernel's link fd is held directly.
  std::map<uint32_t, int> fd_links_;
  uint32_t next_link_ = 1;
  std::unique_ptr<EventPoller> events_;
  std::unique_ptr<EventPoller> dns_;
  uint64_t lost_before_ = 0;
  napi_env env_;
  bool hooked_ = false;
};

}  // namespace altrace::bpf
