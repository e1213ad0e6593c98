/* sockops: once a redirected connection is established, index its origin by the agent side's
 * local endpoint: that is the peer address the proxy sees on the connection it accepted. The
 * entries go when the socket closes (state callback), so a reused port never inherits them. */
#include "common.bpf.h"

static __always_inline void alt_local_endpoint(struct bpf_sock_ops *ops, struct alt_endpoint *ep)
{
	/* local_port is host byte order in sockops (remote_port is network order). */
	__u16 port = bpf_htons((__u16)ops->local_port);

	if (ops->family == ALT_AF_INET) {
		alt_endpoint_v4(ep, ops->local_ip4, port);
		return;
	}
	__builtin_memset(ep, 0, sizeof(*ep));
	ALT_COPY_IP6_IN(ep->addr, ops, local_ip6);
	ep->port = port;
}

SEC("sockops")
int alt_sockops(struct bpf_sock_ops *ops)
{
	struct alt_endpoint local;
	struct alt_origin *origin;
	__u64 cookie;

	switch (ops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		cookie = bpf_get_socket_cookie(ops);
		origin = bpf_map_lookup_elem(&alt_redirects, &cookie);
		if (!origin)
			return 1;
		alt_local_endpoint(ops, &local);
		bpf_map_update_elem(&alt_flows, &local, origin, BPF_ANY);
		bpf_sock_ops_cb_flags_set(ops, ops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
		return 1;
	case BPF_SOCK_OPS_STATE_CB:
		if (ops->args[1] != BPF_TCP_CLOSE)
			return 1;
		cookie = bpf_get_socket_cookie(ops);
		alt_local_endpoint(ops, &local);
		bpf_map_delete_elem(&alt_flows, &local);
		bpf_map_delete_elem(&alt_redirects, &cookie);
		return 1;
	}
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
