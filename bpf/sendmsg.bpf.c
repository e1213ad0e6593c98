/* cgroup/sendmsg4, cgroup/sendmsg6: unconnected UDP to an AI address (any port: QUIC, or
 * anything else) is refused, and a strict cgroup's datagrams to undeclared places, and a
 * confined cgroup's outside its egress set; connected UDP sockets are stopped at connect
 * (connect.bpf.c), since sendmsg without an address never reaches these hooks. */
#include "common.bpf.h"

SEC("cgroup/sendmsg4")
int alt_sendmsg4(struct bpf_sock_addr *ctx)
{
	struct alt_endpoint dest;

	alt_endpoint_v4(&dest, ctx->user_ip4, (__u16)ctx->user_port);
	if (!alt_confinement_allows(ctx, &dest))
		return 0;
	return alt_udp_allowed(ctx, &dest);
}

SEC("cgroup/sendmsg6")
int alt_sendmsg6(struct bpf_sock_addr *ctx)
{
	struct alt_endpoint dest = {};

	ALT_COPY_IP6_IN(dest.addr, ctx, user_ip6);
	dest.port = (__u16)ctx->user_port;
	if (!alt_confinement_allows(ctx, &dest))
		return 0;
	return alt_udp_allowed(ctx, &dest);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
