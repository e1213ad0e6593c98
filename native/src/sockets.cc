#include "sockets.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace altrace {

Napi::Value OriginalDestination(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // JS validated the argument; C++ only receives a file descriptor number.
  int fd = info[0].As<Napi::Number>().Int32Value();

  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
    Napi::Error err = Napi::Error::New(env, std::string("getsockname: ") + std::strerror(errno));
    err.Set("code", std::string(errno == EBADF ? "EBADF" : errno == ENOTSOCK ? "ENOTSOCK" : "ESYSCALL"));
    throw err;
  }
  bool v6 = local.ss_family == AF_INET6;
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  int rc = v6 ? getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &addr, &len)
              : getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &addr, &len);
  if (rc != 0) {
    // No conntrack entry (not redirected) or no conntrack at all: nothing to recover.
    if (errno == ENOENT || errno == ENOPROTOOPT || errno == EOPNOTSUPP) return env.Null();
    Napi::Error err = Napi::Error::New(env, std::string("getsockopt(SO_ORIGINAL_DST): ") + std::strerror(errno));
    err.Set("code", std::string("ESYSCALL"));
    throw err;
  }
  char text[INET6_ADDRSTRLEN] = {0};
  uint16_t port = 0;
  if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    port = ntohs(in6->sin6_port);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    port = ntohs(in->sin_port);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("address", text);
  out.Set("port", port);
  return out;
}

}  // namespace altrace
