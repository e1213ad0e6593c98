#include "bpf_object.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <unistd.h>

#include <cerrno>
#include <vector>

#include "altrace.h"
#include "altrace.skel.h"
#include "bpf_errors.h"
#include "bpf_netns.h"

namespace altrace::bpf {
namespace {

bool IsPerCpu(const bpf_map* map) {
  switch (bpf_map__type(map)) {
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      return true;
    default:
      return false;
  }
}

// What a lookup returns: per-CPU maps give one 8-byte-aligned slot per possible CPU.
size_t ValueBytes(const bpf_map* map) {
  size_t size = bpf_map__value_size(map);
  if (!IsPerCpu(map)) return size;
  return ((size + 7) / 8 * 8) * static_cast<size_t>(libbpf_num_possible_cpus());
}

bool IsCgroupProgram(const bpf_program* prog) {
  bpf_prog_type type = bpf_program__type(prog);
  return type == BPF_PROG_TYPE_CGROUP_SOCK_ADDR || type == BPF_PROG_TYPE_SOCK_OPS || type == BPF_PROG_TYPE_CGROUP_SKB;
}

// The kernel's values (6.6+); libbpf 1.1's headers predate them.
constexpr int kTcxIngress = 46;
constexpr unsigned kTcxBefore = 1U << 3;  // BPF_F_BEFORE: at the head of the interface's chain

}  // namespace

Napi::Function BpfObject::Define(Napi::Env env) {
  return DefineClass(env, "BpfObject",
                     {
                         InstanceMethod<&BpfObject::Close>("close"),
                         InstanceMethod<&BpfObject::Programs>("programs"),
                         InstanceMethod<&BpfObject::AttachCgroup>("attachCgroup"),
                         InstanceMethod<&BpfObject::Detach>("detach"),
                         InstanceMethod<&BpfObject::PinLink>("pinLink"),
                         InstanceMethod<&BpfObject::MapUpdate>("mapUpdate"),
                         InstanceMethod<&BpfObject::MapLookup>("mapLookup"),
                         InstanceMethod<&BpfObject::MapDelete>("mapDelete"),
                         InstanceMethod<&BpfObject::PinMaps>("pinMaps"),
                         InstanceMethod<&BpfObject::UnpinMaps>("unpinMaps"),
                         InstanceMethod<&BpfObject::StartEvents>("startEvents"),
                         InstanceMethod<&BpfObject::StopEvents>("stopEvents"),
                         InstanceMethod<&BpfObject::RefEvents>("refEvents"),
                         InstanceMethod<&BpfObject::EventsLost>("eventsLost"),
                         InstanceMethod<&BpfObject::DestroyKilled>("destroyKilled"),
                         InstanceMethod<&BpfObject::AttachTcx>("attachTcx"),
                         InstanceMethod<&BpfObject::MapKeys>("mapKeys"),
                         InstanceMethod<&BpfObject::StartDns>("startDns"),
                         InstanceMethod<&BpfObject::StopDns>("stopDns"),
                         InstanceMethod<&BpfObject::TestRun>("testRun"),
                     });
}

BpfObject::BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info), env_(info.Env()) {
  std::string pin_dir = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  Load(info.Env(), pin_dir);
  hooked_ = napi_add_env_cleanup_hook(env_, OnEnvTeardown, this) == napi_ok;
}

BpfObject::~BpfObject() {
  if (hooked_) napi_remove_env_cleanup_hook(env_, OnEnvTeardown, this);
  Release();
}

void BpfObject::OnEnvTeardown(void* self) { static_cast<BpfObject*>(self)->Release(); }

void BpfObject::Load(Napi::Env env, const std::string& pin_dir) {
  LibbpfLog log;
  skel_ = altrace_bpf__open();
  if (skel_ == nullptr) Throw(env, "ALT_BPF_LOAD", "opening the BPF object", errno, log.Tail());
  if (!pin_dir.empty()) {
    // libbpf reuses a compatible map already pinned there (state survives an agent restart)
    // and pins the ones it creates.
    bpf_map* map;
    bpf_object__for_each_map(map, skel_->obj) {
      std::string path = pin_dir + "/" + bpf_map__name(map);
      bpf_map__set_pin_path(map, path.c_str());
    }
  }
  int err = altrace_bpf__load(skel_);
  if (err == 0) {
    iter_link_ = bpf_program__attach_iter(skel_->progs.alt_destroy, nullptr);
    if (iter_link_ == nullptr) err = -errno;
  }
  if (err != 0) {
    std::string detail = log.Tail();
    Release();
    Throw(env, "ALT_BPF_LOAD", "loading the BPF programs", -err, detail);
  }
}

void BpfObject::Release() {
  if (events_) {
    lost_before_ += events_->Lost();
    events_.reset();
  }
  dns_.reset();
  for (auto& [id, link] : links_) bpf_link__destroy(link);
  links_.clear();
  for (auto& [id, fd] : fd_links_) close(fd);
  fd_links_.clear();
  if (iter_link_ != nullptr) bpf_link__destroy(iter_link_);
  iter_link_ = nullptr;
  if (skel_ != nullptr) altrace_bpf__destroy(skel_);
  skel_ = nullptr;
}

void BpfObject::RequireOpen(Napi::Env env) const {
  if (skel_ == nullptr) Throw(env, "ALT_BPF_CLOSED", "the BPF object is closed");
}

bpf_map* BpfObject::FindMap(Napi::Env env, const Napi::Value& name) const {
  RequireOpen(env);
  std::string wanted = name.As<Napi::String>().Utf8Value();
  bpf_map* map = bpf_object__find_map_by_name(skel_->obj, wanted.c_str());
  if (map == nullptr) Throw(env, "ALT_BPF_MAP", "no map named " + wanted);
  return map;
}

Napi::Value BpfObject::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value BpfObject::Programs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  Napi::Array out = Napi::Array::New(env);
  bpf_program* prog;
  uint32_t i = 0;
  bpf_object__for_each_program(prog, skel_->obj) {
    bpf_prog_info prog_info{};
    uint32_t len = sizeof(prog_info);
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("name", bpf_program__name(prog));
    entry.Set("section", bpf_program__section_name(prog));
    entry.Set("id", bpf_obj_get_info_by_fd(bpf_program__fd(prog), &prog_info, &len) == 0 ? prog_info.id : 0);
    out.Set(i++, entry);
  }
  return out;
}

// attachCgroup(program, cgroupFd) -> link id. A bpf_link: the attachment ends with the link,
// so a crashed agent leaves nothing attached unless the link was pinned (pinLink).
Napi::Value BpfObject::AttachCgroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int cgroup_fd = info[1].As<Napi::Number>().Int32Value();
  bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, name.c_str());
  if (prog == nullptr || !IsCgroupProgram(prog)) Throw(env, "ALT_BPF_ATTACH", "no cgroup program named " + name);
  bpf_link* link = bpf_program__attach_cgroup(prog, cgroup_fd);
  if (link == nullptr) Throw(env, "ALT_BPF_ATTACH", "attaching " + name + " to the cgroup", errno);
  uint32_t id = next_link_++;
  links_[id] = link;
  return Napi::Number::New(env, id);
}

// pinLink(linkId, path): the attachment then outlives this process (and its fd) until the pin
// file is removed; JS chooses the path under a bpffs directory and removes stale pins.
Napi::Value BpfObject::PinLink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  auto found = links_.find(id);
  auto fd_link = fd_links_.find(id);
  if (found == links_.end() && fd_link == fd_links_.end()) Throw(env, "ALT_BPF_PIN", "no such link");
  int err = found != links_.end() ? bpf_link__pin(found->second, path.c_str())
                                  : (bpf_obj_pin(fd_link->second, path.c_str()) == 0 ? 0 : -errno);
  if (err != 0) Throw(env, "ALT_BPF_PIN", "pinning a link at " + path, -err);
  return env.Undefined();
}

Napi::Value BpfObject::Detach(const Napi::CallbackInfo& info) {
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  auto fd_link = fd_links_.find(id);
  if (fd_link != fd_links_.end()) {
    close(fd_link->second);
    fd_links_.erase(fd_link);
    return Napi::Boolean::New(info.Env(), true);
  }
  auto found = links_.find(id);
  if (found == links_.end()) return Napi::Boolean::New(info.Env(), false);
  bpf_link__destroy(found->second);
  links_.erase(found);
  return Napi::Boolean::New(info.Env(), true);
}

// mapUpdate(map, key, value, flags): key and value are the encoded structs of bpf/altrace.h.
Napi::Value BpfObject::MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* map = FindMap(env, info[0]);
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  auto value = info[2].As<Napi::Buffer<uint8_t>>();
  uint64_t flags = info[3].As<Napi::Number>().Int64Value();
  if (bpf_map__update_elem(map, key.Data(), key.Length(), value.Data(), value.Length(), flags) != 0)
    Throw(env, "ALT_BPF_MAP", std::string("updating ") + bpf_map__name(map), errno);
  return env.Undefined();
}

Napi::Value BpfObject::MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* map = FindMap(env, info[0]);
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  auto value = Napi::Buffer<uint8_t>::New(env, ValueBytes(map));
  if (bpf_map__lookup_elem(map, key.Data(), key.Length(), value.Data(), value.Length(), 0) != 0) {
    if (errno == ENOENT) return env.Null();
    Throw(env, "ALT_BPF_MAP", std::string("looking up ") + bpf_map__name(map), errno);
  }
  return value;
}

Napi::Value BpfObject::MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* map = FindMap(env, info[0]);
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  if (bpf_map__delete_elem(map, key.Data(), key.Length(), 0) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    Throw(env, "ALT_BPF_MAP", std::string("deleting from ") + bpf_map__name(map), errno);
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value BpfObject::PinMaps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  int err = bpf_object__pin_maps(skel_->obj, dir.c_str());
  if (err != 0) Throw(env, "ALT_BPF_PIN", "pinning the maps under " + dir, -err);
  return env.Undefined();
}

Napi::Value BpfObject::UnpinMaps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  int err = bpf_object__unpin_maps(skel_->obj, dir.c_str());
  if (err != 0) Throw(env, "ALT_BPF_PIN", "unpinning the maps under " + dir, -err);
  return env.Undefined();
}

Napi::Value BpfObject::StartEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  if (events_) Throw(env, "ALT_BPF_EVENTS", "events are already being delivered");
  events_ = std::make_unique<EventPoller>(env, bpf_map__fd(skel_->maps.alt_events), sizeof(alt_event), info[0].As<Napi::Function>());
  return env.Undefined();
}

Napi::Value BpfObject::StopEvents(const Napi::CallbackInfo& info) {
  if (events_) {
    lost_before_ += events_->Lost();
    events_.reset();
  }
  return info.Env().Undefined();
}

Napi::Value BpfObject::RefEvents(const Napi::CallbackInfo& info) {
  if (events_) events_->Ref(info.Env(), info[0].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

Napi::Value BpfObject::EventsLost(const Napi::CallbackInfo& info) {
  uint64_t lost = lost_before_ + (events_ ? events_->Lost() : 0);
  return Napi::Number::New(info.Env(), static_cast<double>(lost));
}

Napi::Value BpfObject::DestroyKilled(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  return DestroyInNetns(env, bpf_link__fd(iter_link_), info[0].As<Napi::String>().Utf8Value());
}

// attachTcx(program, ifindex) -> link id: a tc program on an interface's ingress, as a tcx link
// (kernel 6.6+), which, like the cgroup links, ends with its fd unless pinned.
Napi::Value BpfObject::AttachTcx(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int ifindex = info[1].As<Napi::Number>().Int32Value();
  bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, name.c_str());
  if (prog == nullptr || bpf_program__type(prog) != BPF_PROG_TYPE_SCHED_CLS) Throw(env, "ALT_BPF_ATTACH", "no tc program named " + name);
  // First in the chain: the CNI's own programs (which may end the chain) run after the backstop.
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = kTcxBefore);
  int fd = bpf_link_create(bpf_program__fd(prog), ifindex, static_cast<bpf_attach_type>(kTcxIngress), &opts);
  if (fd < 0) Throw(env, "ALT_BPF_ATTACH", "attaching " + name + " to interface " + std::to_string(ifindex) + " (tcx ingress)", errno);
  uint32_t id = next_link_++;
  fd_links_[id] = fd;
  return Napi::Number::New(env, id);
}

// mapKeys(map) -> Buffer[]: every key, for rebuilding state from maps a previous agent pinned.
Napi::Value BpfObject::MapKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* map = FindMap(env, info[0]);
  size_t key_size = bpf_map__key_size(map);
  std::vector<uint8_t> key(key_size), next(key_size);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  const void* prev = nullptr;
  while (bpf_map__get_next_key(map, prev, next.data(), key_size) == 0) {
    out.Set(n++, Napi::Buffer<uint8_t>::Copy(env, next.data(), key_size));
    key.swap(next);
    prev = key.data();
  }
  if (errno != ENOENT) Throw(env, "ALT_BPF_MAP", std::string("listing the keys of ") + bpf_map__name(map), errno);
  return out;
}

Napi::Value BpfObject::StartDns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  if (dns_) Throw(env, "ALT_BPF_EVENTS", "DNS answers are already being delivered");
  dns_ = std::make_unique<EventPoller>(env, bpf_map__fd(skel_->maps.alt_dns), sizeof(alt_dns_event), info[0].As<Napi::Function>());
  dns_->Ref(env, false);
  return env.Undefined();
}

Napi::Value BpfObject::StopDns(const Napi::CallbackInfo& info) {
  dns_.reset();
  return info.Env().Undefined();
}

// testRun(program, packet, repeat, ifindex) -> { retval, durationNs }: BPF_PROG_TEST_RUN, the
// kernel's own timing of one program on one packet, averaged over repeat runs (the benchmark's
// cost per packet, free of the load generator); ifindex (0: loopback) is the device it arrives on.
Napi::Value BpfObject::TestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  std::string name = info[0].As<Napi::String>().Utf8Value();
  auto packet = info[1].As<Napi::Buffer<uint8_t>>();
  bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, name.c_str());
  if (prog == nullptr) Throw(env, "ALT_BPF_ATTACH", "no program named " + name);
  __sk_buff ctx{};
  ctx.ifindex = info[3].As<Napi::Number>().Uint32Value();
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.Data(), .data_size_in = static_cast<uint32_t>(packet.Length()),
              .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = info[2].As<Napi::Number>().Int32Value());
  if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts) != 0) Throw(env, "ALT_BPF_ATTACH", "test run of " + name, errno);
  Napi::Object out = Napi::Object::New(env);
  out.Set("retval", Napi::Number::New(env, opts.retval));
  out.Set("durationNs", Napi::Number::New(env, opts.duration));
  return out;
}

}  // namespace altrace::bpf
