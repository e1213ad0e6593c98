#include "bpf_events.h"

#include <bpf/libbpf.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "bpf_errors.h"

namespace altrace::bpf {
namespace {

constexpr uint32_t kWake = 0;
constexpr uint32_t kRing = 1;
// Batches waiting for the JS thread; beyond this the poller counts them lost instead of
// growing without bound behind a stalled event loop.
constexpr size_t kMaxQueuedBatches = 256;
// While that queue is full, records wait here (and are retried every millisecond) up to this
// many bytes; only past it are they counted lost. 4 MiB is ~50,000 events.
constexpr size_t kMaxHeldBytes = 4u << 20;

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

EventPoller::EventPoller(Napi::Env env, int ringbuf_map_fd, size_t record_size, Napi::Function callback) : record_size_(record_size) {
  ring_ = ring_buffer__new(ringbuf_map_fd, OnSample, this, nullptr);
  if (ring_ == nullptr) Throw(env, "ALT_BPF_EVENTS", "ring_buffer__new", errno);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.u32 = kWake;
  epoll_event ring{};
  ring.events = EPOLLIN;
  ring.data.u32 = kRing;
  if (epoll_fd_ < 0 || wake_fd_ < 0 || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake) != 0 ||
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, ring_buffer__epoll_fd(ring_), &ring) != 0) {
    int err = errno;
    FreeFds();
    Throw(env, "ALT_BPF_EVENTS", "epoll set-up for the event ring buffer", err);
  }
  try {
    deliver_ = Napi::ThreadSafeFunction::New(env, callback, "altrace-bpf-events", kMaxQueuedBatches, 1);
  } catch (...) {
    FreeFds();
    throw;
  }
  thread_ = std::thread([this] { Run(); });
}

EventPoller::~EventPoller() { Stop(); }

int EventPoller::OnSample(void* self, void* data, size_t size) {
  auto* poller = static_cast<EventPoller*>(self);
  if (size != poller->record_size_) {
    poller->lost_++;
    return 0;
  }
  auto* bytes = static_cast<uint8_t*>(data);
  poller->batch_.insert(poller->batch_.end(), bytes, bytes + size);
  return 0;
}

void EventPoller::Run() {
  epoll_event events[2];
  for (;;) {
    // Records held back by a full queue are retried soon even if the ring stays quiet.
    int n = epoll_wait(epoll_fd_, events, 2, batch_.empty() ? -1 : 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    for (int i = 0; i < n; i++)
      if (events[i].data.u32 == kWake) return;
    ring_buffer__consume(ring_);
    Flush();
  }
}

void EventPoller::Flush() {
  if (batch_.empty()) return;
  auto* batch = new std::vector<uint8_t>(std::move(batch_));
  batch_.clear();
  size_t count = batch->size() / record_size_;
  napi_status status = deliver_.NonBlockingCall(batch, [](Napi::Env env, Napi::Function callback, std::vector<uint8_t>* records) {
    std::unique_ptr<std::vector<uint8_t>> owned(records);
    // No env: the function is being finalized with batches still queued; they only need freeing.
    if (env != nullptr && callback != nullptr) callback.Call({Napi::Buffer<uint8_t>::Copy(env, owned->data(), owned->size())});
  });
  if (status == napi_ok) return;
  if (status == napi_queue_full && batch->size() <= kMaxHeldBytes) {
    batch_ = std::move(*batch);  // batch_ was emptied above: these go first next time
    delete batch;
    return;
  }
  delete batch;
  lost_ += count;
}

void EventPoller::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // Cannot fail short of a closed fd, and then epoll_wait has failed and the thread returned.
  uint64_t one = 1;
  [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
  deliver_.Release();
  FreeFds();
}

void EventPoller::FreeFds() {
  ring_buffer__free(ring_);
  ring_ = nullptr;
  CloseFd(epoll_fd_);
  CloseFd(wake_fd_);
}

void EventPoller::Ref(Napi::Env env, bool ref) {
  if (stopped_) return;
  if (ref)
    deliver_.Ref(env);
  else
    deliver_.Unref(env);
}

}  // namespace altrace::bpf
