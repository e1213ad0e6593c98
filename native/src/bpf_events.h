#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

struct ring_buffer;

namespace altrace::bpf {

// Drains a ring buffer of fixed-size records (alt_event, alt_dns_event) on its own thread and
// hands each batch of raw records (a Buffer of whole structs) to a JS callback through a thread-safe function. Stop()
// wakes the thread through an eventfd, joins it and releases the function, so a stopped
// poller never keeps the event loop alive.
class EventPoller {
 public:
  EventPoller(Napi::Env env, int ringbuf_map_fd, size_t record_size, Napi::Function callback);
  ~EventPoller();
  EventPoller(const EventPoller&) = delete;
  EventPoller& operator=(const EventPoller&) = delete;

  void Stop();
  void Ref(Napi::Env env, bool ref);
  // Records lost in userspace: the JS side fell so far behind that its queue was full.
  uint64_t Lost() const { return lost_.load(); }

 private:
  static int OnSample(void* self, void* data, size_t size);
  void Run();
  void Flush();
  void FreeFds();

  ring_buffer* ring_ = nullptr;
  size_t record_size_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  Napi::ThreadSafeFunction deliver_;
  std::vector<uint8_t> batch_;
  std::atomic<uint64_t> lost_{0};
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace altrace::bpf
