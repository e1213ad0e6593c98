/* cgroup/connect4, cgroup/connect6: AI-bound TCP connects (any port of an AI address) go to
 * the node proxy (or fail when killed); the original destination is remembered by socket cookie
 * for getpeername, sockops and the socket-destroy iterator. Any other protocol to an AI address
 * fails, and a strict cgroup's connects anywhere undeclared fail too, as do a confined cgroup's
 * (an MCP server's) anywhere outside its egress set. */
#include "common.bpf.h"

static __always_inline void alt_proxy_v6(const struct alt_config *cfg, struct alt_endpoint *out)
{
	__builtin_memset(out, 0, sizeof(*out));
	__builtin_memcpy(out->addr, cfg->proxy6, ALT_ADDR_LEN);
	out->port = cfg->port6;
}

/* The proxy endpoint for this socket, or 0 when none is configured that it can reach. A v6
 * socket reaches a v4 proxy through the v4-mapped address (unless IPV6_V6ONLY: then its
 * connect fails, the fail-closed outcome); it prefers the proxy of its destination's family. */
static __always_inline int alt_proxy_for(const struct alt_config *cfg, __u32 family, int v4_dest,
					 struct alt_endpoint *out)
{
	int have4 = cfg->flags & ALT_CFG_PROXY4;
	int have6 = cfg->flags & ALT_CFG_PROXY6;

	if (family == ALT_AF_INET || (v4_dest && have4) || (have4 && !have6)) {
		if (!have4)
			return 0;
		alt_endpoint_v4(out, cfg->proxy4, cfg->port4);
		return 1;
	}
	if (!have6)
		return 0;
	alt_proxy_v6(cfg, out);
	return 1;
}

/* Returns 1 to let connect proceed (to *proxy when rewritten), 0 to fail it with EPERM. */
static __always_inline int alt_decide(struct bpf_sock_addr *ctx, struct alt_endpoint *dest,
				      struct alt_endpoint *proxy, int *rewrite)
{
	__u32 zero = 0;
	struct alt_config *cfg;
	struct alt_origin origin = {};
	__u64 cookie;

	*rewrite = 0;
	if (!alt_confinement_allows(ctx, dest))
		return 0;
	if (alt_current_ungoverned())
		return 1;
	/* Only TCP can be relayed through the proxy; no other protocol reaches an AI address. */
	if (ctx->protocol != ALT_IPPROTO_TCP && ctx->protocol != ALT_IPPROTO_MPTCP)
		return alt_udp_allowed(ctx, dest);
	if (!alt_is_ai(dest))
		return alt_strict_allows(ctx, dest);
	cookie = bpf_get_socket_cookie(ctx);
	if (alt_current_killed()) {
		alt_count(ALT_STAT_KILLED);
		alt_emit(ctx, ALT_EV_KILLED, dest, cookie);
		return 0;
	}
	if (alt_current_exempt(ctx)) {
		alt_count(ALT_STAT_EXEMPT);
		return 1;
	}
	cfg = bpf_map_lookup_elem(&alt_config, &zero);
	if (!cfg || !alt_proxy_for(cfg, ctx->family, alt_is_v4(dest->addr), proxy)) {
		alt_count(ALT_STAT_NO_PROXY);
		alt_emit(ctx, ALT_EV_NO_PROXY, dest, cookie);
		return 0;
	}
	origin.dest = *dest;
	origin.family = ctx->family;
	origin.cgroup_id = bpf_get_current_cgroup_id();
	origin.socket_cookie = cookie;
	origin.netns_cookie = bpf_get_netns_cookie(ctx);
	bpf_map_update_elem(&alt_redirects, &cookie, &origin, BPF_ANY);
	alt_count(ALT_STAT_REDIRECTS);
	alt_emit(ctx, ALT_EV_REDIRECT, dest, cookie);
	*rewrite = 1;
	return 1;
}

SEC("cgroup/connect4")
int alt_connect4(struct bpf_sock_addr *ctx)
{
	struct alt_endpoint dest, proxy;
	int rewrite, verdict;

	alt_endpoint_v4(&dest, ctx->user_ip4, (__u16)ctx->user_port);
	verdict = alt_decide(ctx, &dest, &proxy, &rewrite);
	if (rewrite) {
		__u32 ip4;

		__builtin_memcpy(&ip4, &proxy.addr[12], sizeof(ip4));
		ctx->user_ip4 = ip4;
		ctx->user_port = proxy.port;
	}
	return verdict;
}

SEC("cgroup/connect6")
int alt_connect6(struct bpf_sock_addr *ctx)
{
	struct alt_endpoint dest = {}, proxy;
	int rewrite, verdict;

	ALT_COPY_IP6_IN(dest.addr, ctx, user_ip6);
	dest.port = (__u16)ctx->user_port;
	verdict = alt_decide(ctx, &dest, &proxy, &rewrite);
	if (rewrite) {
		ALT_COPY_IP6_OUT(ctx, user_ip6, proxy.addr);
		ctx->user_port = proxy.port;
	}
	return verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
