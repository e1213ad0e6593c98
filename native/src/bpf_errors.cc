#include "bpf_errors.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace altrace::bpf {
namespace {

// One class per env: every worker thread that loads the addon registers its own.
std::mutex error_classes_mutex;
std::unordered_map<napi_env, Napi::FunctionReference> error_classes;

void ForgetErrorClass(void* env) {
  std::lock_guard<std::mutex> lock(error_classes_mutex);
  error_classes.erase(static_cast<napi_env>(env));
}

thread_local std::string* capture = nullptr;
constexpr size_t kMaxLog = 1 << 20;

int PrintToCapture(libbpf_print_level level, const char* format, va_list args) {
  if (capture == nullptr || level == LIBBPF_DEBUG) return 0;
  char line[1024];
  int n = vsnprintf(line, sizeof(line), format, args);
  if (n > 0 && capture->size() < kMaxLog) capture->append(line, std::min<size_t>(n, sizeof(line) - 1));
  return n;
}

std::once_flag print_installed;

}  // namespace

void SetErrorClass(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  std::lock_guard<std::mutex> lock(error_classes_mutex);
  bool first = error_classes.find(env) == error_classes.end();
  error_classes[env] = Napi::Persistent(info[0].As<Napi::Function>());
  if (first) napi_add_env_cleanup_hook(env, ForgetErrorClass, env);
}

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message, int err, const std::string& detail) {
  std::string text = err != 0 ? message + ": " + std::strerror(err) : message;
  if (!detail.empty()) text += "\n" + detail;
  Napi::Function error_class;
  {
    std::lock_guard<std::mutex> lock(error_classes_mutex);
    auto found = error_classes.find(env);
    if (found != error_classes.end()) error_class = found->second.Value();
  }
  Napi::Object error;
  if (!error_class.IsEmpty()) {
    error = error_class.New({Napi::String::New(env, code), Napi::String::New(env, text)});
  } else {
    error = Napi::Error::New(env, text).Value();
    error.Set("code", code);
  }
  if (err != 0) error.Set("errno", err);
  return Napi::Error(env, error);
}

void Throw(Napi::Env env, const std::string& code, const std::string& message, int err, const std::string& detail) {
  throw MakeError(env, code, message, err, detail);
}

LibbpfLog::LibbpfLog() : previous_(capture) {
  std::call_once(print_installed, [] { libbpf_set_print(PrintToCapture); });
  capture = &text_;
}

LibbpfLog::~LibbpfLog() { capture = previous_; }

std::string LibbpfLog::Tail(size_t max) const {
  return text_.size() <= max ? text_ : text_.substr(text_.size() - max);
}

}  // namespace altrace::bpf
