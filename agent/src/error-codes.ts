// The stable codes of the agent's own errors: the control API's refusals, the CLI's, and what
// stops the agent at start-up or an offline tool. The proxy's decisions use reason codes instead
// (proxy/src/core/reasons.ts). A code is never renamed and never reused; docs/reference.md lists
// them, generated from this table (npm run docs; test/e2e/reference-docs.test.ts).

export interface AgentErrorInfo {
  /** The HTTP status of a control-API reply carrying the code; null for one that never travels over HTTP. */
  status: number | null;
  /** What happened, and where an operator meets it. */
  meaning: string;
  /** What the operator should do. */
  action: string;
}

const table = {
  // Control API refusals (`{"error": {"code", "message", "field"}}`); a refusal changes nothing.
  ALT_INVALID_FIELD: { status: 400, meaning: 'A body field, query parameter or path parameter is invalid; `field` names it and the message says what it accepts.', action: 'Fix the named field and send the call again (the CLI exits 2).' },
  ALT_MALFORMED_JSON: { status: 400, meaning: 'The body is not valid JSON.', action: 'Send one complete JSON object.' },
  ALT_JSON_TOO_DEEP: { status: 400, meaning: 'The body nests arrays and objects more deeply than limits.max_json_depth.', action: 'Send a flatter body.' },
  ALT_UNAUTHENTICATED: { status: 401, meaning: 'No operator token was sent, or the token is unknown.', action: 'Send Authorization: Bearer <operator token>: the bootstrap admin token (<state_dir>/admin.token) or one issued with altrace tokens create.' },
  ALT_TOKEN_REVOKED: { status: 401, meaning: 'The operator token was deleted (altrace tokens delete, or rotated with no grace): its use is recorded as a revoked credential used, a security event, not as a guess.', action: 'Use the token that replaced it; if nobody should hold it any more, find who still sends it (the audit record names the source).' },
  ALT_CERT_REQUIRED: { status: 401, meaning: 'The control API requires a client certificate (control.tls.client_auth: required) and the connection presented none.', action: 'Call over HTTPS with a certificate the control CA issued (altrace certs issue), e.g. --cert and --key.' },
  ALT_CERT_INVALID: { status: 401, meaning: "The client certificate was not accepted: not issued by the control API's client CA, expired, not yet valid, a fleet node's rather than an operator's, or its subject names no valid role (OU) and team (O).", action: 'Use a certificate issued by altrace certs issue (or your CA with CN=name, OU=role, O=team).' },
  ALT_CERT_REVOKED: { status: 401, meaning: 'The client certificate is revoked (altrace certs revoke): every replica refuses it within seconds.', action: 'Issue the operator a new certificate.' },
  ALT_FORWARDED_UNTRUSTED: { status: 400, meaning: 'The request carries X-Forwarded-For or Forwarded, but its peer is not in control.trusted_proxies: the header is not believed (it could name any address), so the request is refused.', action: 'Send through a proxy listed in control.trusted_proxies, or without the header.' },
  ALT_FORWARDED_INVALID: { status: 400, meaning: 'A trusted proxy forwarded an address that cannot be read (unknown, obfuscated, or not an IP address).', action: 'Configure the proxy to forward the client address (X-Forwarded-For, or Forwarded: for=).' },
  ALT_SOURCE_DENIED: { status: 403, meaning: 'The control API does not accept requests from this address (control.allow_cidrs); the address is the peer, or the one a trusted proxy forwards for.', action: 'Call from an allowed network, or add it to control.allow_cidrs.' },
  ALT_FORBIDDEN: { status: 403, meaning: "The token's role does not permit the call (a viewer changing something, an auditor reading keys: docs/security.md#roles), or a team token acted outside its team, or on what only an admin may do (the global switch, operator tokens, cost-center budgets, node status, fleet nodes and enrollment tokens).", action: "Use a token whose role permits the call, an admin token, or act on your own team's keys, agents and switches." },
  ALT_NOT_FOUND: { status: 404, meaning: "No such endpoint, or no such key, agent, switch, approval, fleet node or enrollment token; another team's are reported as unknown too.", action: 'Check the path and the id (altrace keys list, altrace agents, altrace approvals list, altrace nodes); a team token sees only its team.' },
  ALT_METHOD_NOT_ALLOWED: { status: 405, meaning: 'The path does not take this method; the allow header lists the ones it does.', action: 'Use one of the methods in allow.' },
  ALT_CONFLICT: { status: 409, meaning: 'An operator token or enrollment token with this name exists, or the call would delete the last admin token.', action: 'Pick another name or delete the old token first; issue another admin token before deleting the last one.' },
  ALT_AGENT_IN_OTHER_TEAM: { status: 409, meaning: 'The agent already has keys in another team: an agent belongs to the team of its first key.', action: 'Issue the key in the team that holds the agent, or give this agent another name.' },
  ALT_KEY_REVOKED: { status: 409, meaning: 'The key is revoked and cannot be rotated.', action: 'Issue a new key (altrace keys create).' },
  ALT_NODE_REMOVED: { status: 409, meaning: 'The fleet node was already removed; its certificate is refused from then on.', action: 'Nothing to do. To let it back in, it enrolls again with an enrollment token (altrace nodes token create).' },
  ALT_APPROVAL_DECIDED: { status: 409, meaning: 'The approval was already decided (or expired); a decision is given once.', action: 'Read its outcome with altrace approvals list --status all.' },
  ALT_BODY_TOO_LARGE: { status: 413, meaning: 'The body exceeds the control API limit of 64 KiB; the connection is closed.', action: 'Send a smaller body.' },
  ALT_RATE_LIMITED: { status: 429, meaning: 'This operator token made more control-API calls in the last minute than limits.control_calls_per_minute allows.', action: 'Wait for retry-after; a script that needs more should be given a higher limit, not more tokens.' },
  ALT_AUTH_THROTTLED: { status: 429, meaning: 'Too many unknown operator tokens came from this address; it is refused before its token is looked at.', action: 'Wait for retry-after, then send a valid token.' },
  ALT_INTERNAL: { status: 500, meaning: 'The control API failed on a call it accepted.', action: "Read the agent's log; retry, and report it if it persists." },

  // The CLI (exit 2 for usage, 1 otherwise).
  ALT_USAGE: { status: null, meaning: 'The CLI invocation is malformed: a missing argument, an unknown subcommand, a value out of range.', action: 'Read altrace COMMAND --help (exit code 2).' },
  ALT_CONTROL_UNREACHABLE: { status: null, meaning: 'The CLI could not connect to the control API.', action: 'Check that the agent runs and --url / ALTRACE_URL points at its control port (default http://127.0.0.1:7070).' },
  ALT_CONTROL_ERROR: { status: null, meaning: 'The control API answered with an error that carries no code the CLI knows (the message has the status and what the server said).', action: 'Read the message; check that the CLI and the agent are the same version.' },

  // Start-up, configuration and state.
  ALT_CONFIG_INVALID: { status: null, meaning: 'The configuration file or an ALTRACE_* override is invalid; the message names the field. The agent does not start.', action: 'Fix the named field (policies/config.schema.json describes each one).' },
  ALT_POLICY_INVALID: { status: null, meaning: 'A policy or contract file is invalid; the message names the field. At start-up the agent does not start; on a hot reload the last good policy stays.', action: 'Fix the named field; altrace policy check FILE checks it offline.' },
  ALT_CREDENTIAL_STORE: { status: null, meaning: 'The credential store could not be read or written: a wrong master key, a damaged or unreadable file.', action: 'Check ALTRACE_MASTER_KEY (or credentials.master_key_file, default <state_dir>/master.key) and the file the message names.' },
  ALT_NATIVE: { status: null, meaning: 'The native addon is not built or could not be loaded.', action: 'Run npm ci with python3, make and g++ present.' },
  ALT_NODE_ENFORCEMENT: { status: null, meaning: 'Node enforcement (node.enforcement) could not start: the message names what is missing (root, nft, BPF, the cgroup).', action: 'Provide what the message names, or set node.enforcement to off.' },
  ALT_KUBERNETES_CONFIG: { status: null, meaning: 'kubernetes.enabled is true but the API server cannot be reached as configured: not in a pod and no kubernetes.api_server, or its token file unreadable (the message says which).', action: 'Run the agent as the DaemonSet (its service account), or set kubernetes.api_server and kubernetes.token_file; or set kubernetes.enabled to false.' },

  // The audit log and its offline tools (altrace audit verify|prove|check).
  ALT_AUDIT_UNREADABLE: { status: null, meaning: 'The audit log could not be opened: unreadable or damaged (the message says where), or its files are not writable.', action: "Check the files under <state_dir>/audit and their owner; keep a damaged log for inspection and run altrace audit verify on it." },
  ALT_AUDIT_RECORD_INVALID: { status: null, meaning: 'An audit record could not be decoded.', action: 'Run altrace audit verify: the log was damaged or written by a newer version.' },
  ALT_AUDIT_UNVERIFIABLE: { status: null, meaning: 'The log cannot be verified as asked: no verifier key where one was expected.', action: 'Pass the verifier key with --key <name>+<id>+<key> (GET /audit/checkpoint prints it).' },
  ALT_CHECKPOINT_INVALID: { status: null, meaning: 'A signed checkpoint or verifier key is malformed, or its signature does not verify.', action: 'Use the checkpoint and verifier key as the agent published them; a signature that does not verify means the checkpoint was altered or signed by another key.' },
  ALT_PROOF_INVALID: { status: null, meaning: 'An inclusion or consistency proof cannot be made or does not verify: no such checkpoint or record, or a doctored proof.', action: 'Ask for a record and checkpoint the log has (altrace audit prove); a proof that does not verify is evidence of tampering.' },

  // The fleet's control plane: its PostgreSQL store (docs/postgres.md) and its CA (docs/fleet.md).
  ALT_DATABASE_URL_INVALID: { status: null, meaning: 'The database URL is not a postgres:// or postgresql:// URL with a host.', action: 'Fix ALTRACE_DATABASE_URL.' },
  ALT_DATABASE_UNREACHABLE: { status: 503, meaning: "PostgreSQL refused or did not answer (within 5 s): at the control plane's start, or for an operator call, which was not acknowledged (it changed nothing, unless the database stopped answering while committing it); the message names the URL without its password and the server's reason.", action: 'Check the server, the network and the credentials in the URL; once the database answers (the replica\'s /readyz says when), check the call\'s effect and send it again.' },
  ALT_SCHEMA_TOO_NEW: { status: null, meaning: 'The database was migrated by a newer Altrace; this one does not know its schema and does not start.', action: 'Run that release or a newer one; never point an older one at a migrated database.' },
  ALT_FLEET_CA_KEY: { status: null, meaning: 'ALTRACE_FLEET_CA_KEY is missing, shorter than 32 characters, or not the secret the fleet CA was sealed with.', action: 'Give every control-plane replica the same secret (openssl rand -base64 48 makes one); the first replica that starts seals the CA with it.' },
  ALT_FLEET_FRAME_INVALID: { status: null, meaning: 'A node stream frame was refused: larger than 64 MiB, not a FleetFrame, from another stream, replayed or out of order. The stream ends; the node reconnects and resynchronises.', action: 'None when it is rare (a replica restart); repeated, check what sits between node and control plane, and that both run the same Altrace version.' },
  ALT_FLEET_SNAPSHOT_UNREADABLE: { status: null, meaning: "The node's last fleet snapshot (in its state directory) is damaged; the node does not start on a state it cannot read.", action: "Move the file the message names aside: the node then starts with no state and fails closed until its control plane's next snapshot arrives." },
  ALT_FLEET_MANAGED: { status: 409, meaning: "This node follows a control plane, which owns keys, operator tokens, kill switches, levels and budgets: the node's control API only reads them.", action: 'Send the call to the control plane (the message names its URL); the CLI takes --control-url.' },
  ALT_FLEET_UNAUTHENTICATED: { status: 401, meaning: 'The control plane refused a node: an unknown or expired bootstrap token at enrollment, or on the node stream a client certificate that is missing, not signed by the fleet CA, expired, or of a node an operator removed.', action: 'Give the node a current token (altrace nodes token create) in ALTRACE_BOOTSTRAP_TOKEN; a removed node must enroll again with one.' },
  ALT_FLEET_ENROLL_FAILED: { status: null, meaning: "A node could not get its certificate from the control plane at start: no ALTRACE_BOOTSTRAP_TOKEN, the control plane unreachable or not trusted by fleet.ca_file, or the enrollment refused (the message gives the control plane's reason).", action: 'Check fleet.control_plane, fleet.ca_file and the bootstrap token; the node does not start without an identity.' },
  ALT_ENROLLMENT_INVALID: { status: 400, meaning: "A node's enrollment could not be signed: the request is not a PKCS#10 CSR, its signature does not verify (it was altered, or not made with its key), or the node id is not 1–63 of a-z, 0-9, '.', '_', '-'.", action: 'Let the node agent make its request itself (altrace start --control-plane URL); check the node id it was given.' },
  ALT_LEASE_INVALID: { status: null, meaning: 'A budget lease call was given an argument the store cannot act on (an unknown scope or window, a window start that is not the first day of the window containing now, an amount that is not a finite positive USD, a TTL that is not a positive whole number of ms); `field` names it.', action: 'A bug in the caller: report it with the message.' },

  // Node enforcement in the kernel (BpfError; the native addon throws the same codes).
  ALT_BPF_UNAVAILABLE: { status: null, meaning: 'BPF enforcement cannot run here; the message says why (not root, addon built without BPF, no BTF, no cgroup2).', action: 'Run as root (or with CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN) on a kernel with BTF and cgroup2, or use node.enforcement nftables or off.' },
  ALT_BPF_INVALID_OPTION: { status: null, meaning: 'An argument is invalid; `option` names it.', action: 'Fix the named option.' },
  ALT_BPF_LAYOUT: { status: null, meaning: 'The addon was built from a different bpf/altrace.h than this code encodes.', action: 'Rebuild with npm ci.' },
  ALT_CLASSIFIER_UNAVAILABLE: { status: null, meaning: 'The policy declares a content classifier (content.classifiers) but onnxruntime-node, an optional dependency, is not installed; requests the classifier would score fail closed with ALT_STAGE_FAILED, and the log says this.', action: 'Install it (npm ci without --omit=optional), or remove the classifier from the policy.' },
  ALT_CLASSIFIER_INVALID: { status: null, meaning: 'A declared classifier could not be used: the file is not an ONNX model, its inputs are neither altrace_hashed_ngrams_v1 nor input_ids, a token model has no tokenizer, or its vocab.txt lacks [UNK]/[CLS]/[SEP]; the message names the classifier and what is wrong. Requests it would score fail closed with ALT_STAGE_FAILED.', action: 'Fix the model or its tokenizer in the policy (docs/content.md#classifiers); altrace content eval --classifier loads it the same way.' },
  ALT_BPF_LOAD: { status: null, meaning: 'The kernel refused the programs or maps (the message carries the verifier log).', action: 'Check the kernel version and the verifier log; report it with uname -r.' },
  ALT_BPF_ATTACH: { status: null, meaning: 'Attaching a program to a cgroup failed.', action: 'Check that node.cgroup names a cgroup2 directory and the agent has CAP_SYS_ADMIN.' },
  ALT_BPF_MAP: { status: null, meaning: 'A map update, lookup or delete failed (a full map gives E2BIG).', action: 'Read errno in the message; a full map means more destinations or switches than it holds.' },
  ALT_BPF_PIN: { status: null, meaning: 'Pinning or unpinning the maps in bpffs failed.', action: 'Check that bpffs is mounted (/sys/fs/bpf) and writable by the agent.' },
  ALT_BPF_CLOSED: { status: null, meaning: 'The BPF object was used after close().', action: 'A bug: report it with the stack.' },
  ALT_BPF_EVENTS: { status: null, meaning: 'The event ring buffer could not be polled.', action: "Restart node enforcement; report it with the agent's log if it persists." },
  ALT_BPF_NETNS: { status: null, meaning: 'The network namespace could not be entered or inspected.', action: "Check that the agent has CAP_SYS_ADMIN and the host's /proc." },
  ALT_BPF_ITER: { status: null, meaning: 'The socket-destroy iterator could not be run.', action: 'Check that the kernel has bpf_sock_destroy (6.5 or later).' },
} as const satisfies Record<string, AgentErrorInfo>;

export type AgentErrorCode = keyof typeof table;

/** The codes a control-API refusal can carry: those with an HTTP status. */
export type ControlErrorCode = { [C in AgentErrorCode]: (typeof table)[C]['status'] extends number ? C : never }[AgentErrorCode];

export const agentErrors: Readonly<Record<AgentErrorCode, AgentErrorInfo>> = table;

export const agentErrorCodes = Object.keys(table) as AgentErrorCode[];

export function isAgentErrorCode(v: unknown): v is AgentErrorCode {
  return typeof v === 'string' && Object.hasOwn(table, v);
}

export function controlStatus(code: ControlErrorCode): number {
  return table[code].status;
}
