/* cgroup/getpeername4, cgroup/getpeername6: a redirected socket reports the destination its
 * program asked for, not the proxy, so clients that check their peer keep working. */
#include "common.bpf.h"

SEC("cgroup/getpeername4")
int alt_getpeer4(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct alt_origin *o = bpf_map_lookup_elem(&alt_redirects, &cookie);
	__u32 ip4;

	if (!o || o->family != ALT_AF_INET)
		return 1;
	__builtin_memcpy(&ip4, &o->dest.addr[12], sizeof(ip4));
	ctx->user_ip4 = ip4;
	ctx->user_port = o->dest.port;
	return 1;
}

SEC("cgroup/getpeername6")
int alt_getpeer6(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct alt_origin *o = bpf_map_lookup_elem(&alt_redirects, &cookie);

	if (!o || o->family != ALT_AF_INET6)
		return 1;
	ALT_COPY_IP6_OUT(ctx, user_ip6, o->dest.addr);
	ctx->user_port = o->dest.port;
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
