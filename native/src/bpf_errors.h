#pragma once
#include <napi.h>

#include <string>

namespace altrace::bpf {

// Errors leave C++ as instances of the JS class handed over by bpfSetErrorClass (BpfError in
// agent/src/bpf/errors.ts), constructed as new ErrorClass(code, message) plus .errno. The
// message is "<message>: <strerror(err)>", then `detail` (libbpf's log) on the lines below.
void SetErrorClass(const Napi::CallbackInfo& info);
Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message, int err = 0, const std::string& detail = "");
[[noreturn]] void Throw(Napi::Env env, const std::string& code, const std::string& message, int err = 0, const std::string& detail = "");

// libbpf reports through a process-wide print callback; this collects what it says on the
// current thread while alive, so a load failure can carry the verifier's log.
class LibbpfLog {
 public:
  LibbpfLog();
  ~LibbpfLog();
  LibbpfLog(const LibbpfLog&) = delete;
  LibbpfLog& operator=(const LibbpfLog&) = delete;
  // The last `max` bytes: the verifier's complaint is at the end of its log.
  std::string Tail(size_t max = 4000) const;

 private:
  std::string text_;
  std::string* previous_;
};

}  // namespace altrace::bpf
