#include "bpf_netns.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <system_error>
#include <thread>
#include <vector>

#include "bpf_errors.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace altrace::bpf {
namespace {

struct Failure {
  std::string code;
  std::string what;
  int err = 0;
};

// setns(CLONE_NEWNET) affects only the calling thread; a fresh thread that ends afterwards
// means no thread of Node's (nor of libuv's pool) is ever left in a pod's namespace.
bool InNetns(const std::string& netns_path, Failure& failure, const std::function<bool(Failure&)>& work) {
  bool ok = false;
  auto body = [&] {
    if (!netns_path.empty()) {
      int ns = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0) {
        failure = {"ALT_BPF_NETNS", "open " + netns_path, errno};
        return;
      }
      int rc = setns(ns, CLONE_NEWNET);
      int err = errno;
      close(ns);
      if (rc != 0) {
        failure = {"ALT_BPF_NETNS", "setns " + netns_path, err};
        return;
      }
    }
    ok = work(failure);
  };
  try {
    std::thread(body).join();
  } catch (const std::system_error& e) {
    failure = {"ALT_BPF_NETNS", "starting a thread to enter " + netns_path, e.code().value()};
    return false;
  }
  return ok;
}

bool ReadCookie(Failure& failure, uint64_t& cookie) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  socklen_t len = sizeof(cookie);
  if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) {
    failure = {"ALT_BPF_NETNS", "getsockopt(SO_NETNS_COOKIE)", errno};
    if (fd >= 0) close(fd);
    return false;
  }
  close(fd);
  return true;
}

class DestroyWorker : public Napi::AsyncWorker {
 public:
  DestroyWorker(Napi::Env env, int link_fd, std::string netns_path)
      : Napi::AsyncWorker(env, "altrace-bpf-destroy"), deferred_(env), link_fd_(link_fd), netns_path_(std::move(netns_path)) {}
  ~DestroyWorker() override {
    if (link_fd_ >= 0) close(link_fd_);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    ok_ = InNetns(netns_path_, failure_, [this](Failure& failure) {
      // The iterator binds to the namespace of the thread that creates it.
      int iter = bpf_iter_create(link_fd_);
      if (iter < 0) {
        failure = {"ALT_BPF_ITER", "bpf_iter_create", errno};
        return false;
      }
      char chunk[4096];
      for (;;) {
        ssize_t n = read(iter, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          failure = {"ALT_BPF_ITER", "reading the socket-destroy iterator", errno};
          close(iter);
          return false;
        }
        if (n == 0) break;
        cookies_.insert(cookies_.end(), chunk, chunk + n);
      }
      close(iter);
      return true;
    });
  }
  // Only reached for a C++ exception escaping Execute (e.g. out of memory); a failed pass
  // settles in OnOK like a successful one.
  void OnError(const Napi::Error& e) override { deferred_.Reject(MakeError(Env(), "ALT_BPF_ITER", e.Message()).Value()); }
  void OnOK() override {
    Napi::Env env = Env();
    if (ok_)
      deferred_.Resolve(Napi::Buffer<uint8_t>::Copy(env, cookies_.data(), cookies_.size()));
    else
      deferred_.Reject(MakeError(env, failure_.code, failure_.what, failure_.err).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  int link_fd_;
  std::string netns_path_;
  std::vector<uint8_t> cookies_;
  Failure failure_;
  bool ok_ = false;
};

}  // namespace

Napi::Value NetnsCookie(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  Failure failure;
  uint64_t cookie = 0;
  bool ok = path.empty() ? ReadCookie(failure, cookie) : InNetns(path, failure, [&](Failure& f) { return ReadCookie(f, cookie); });
  if (!ok) Throw(env, failure.code, failure.what, failure.err);
  return Napi::BigInt::New(env, cookie);
}

Napi::Promise DestroyInNetns(Napi::Env env, int iter_link_fd, const std::string& netns_path) {
  // Its own copy of the link: close() on the object may run while the pass is under way.
  int fd = fcntl(iter_link_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) Throw(env, "ALT_BPF_ITER", "dup of the iterator link", errno);
  auto* worker = new DestroyWorker(env, fd, netns_path);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace altrace::bpf
