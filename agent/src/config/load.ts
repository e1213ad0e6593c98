import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { SourcePolicy } from '../control/source-policy.js';
import { ENV_OVERRIDES, type Config } from './config.js';
import { describeSchemaError, schemaValidator } from './validate.js';

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

function coerce(env: string, raw: string, kind: 'string' | 'int' | 'number' | 'bool' | 'list'): unknown {
  if (kind === 'string') return raw;
  if (kind === 'list') return raw.split(',').map((v) => v.trim()).filter(Boolean);
  if (kind === 'number') {
    if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) throw new ConfigError(`${env}=${JSON.stringify(raw)} is not a number`, env);
    return Number(raw);
  }
  if (kind === 'int') {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${env}=${JSON.stringify(raw)} is not an integer`, env);
    return Number(raw);
  }
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${env}=${JSON.stringify(raw)} is not a boolean (true/false)`, env);
}

export interface LoadOptions {
  /** Config file path; falls back to ALTRACE_CONFIG; none means defaults and env only. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Directory relative paths in the config resolve against (default: cwd). */
  cwd?: string;
}

/**
 * One YAML file, then ALTRACE_* overrides, then schema validation with defaults filled in.
 * An invalid file is refused whole, naming the offending field: never half-configured.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ?? env.ALTRACE_CONFIG;
  let doc: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, '(file)');
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`, '(file)');
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${file} must hold a mapping`, '(root)');
      doc = parsed as Record<string, unknown>;
    }
  }
  for (const o of ENV_OVERRIDES) {
    const raw = env[o.env];
    if (raw !== undefined && raw !== '') setPath(doc, o.path, coerce(o.env, raw, o.kind));
  }
  const validate = schemaValidator('config.schema.json');
  if (!validate(doc)) {
    const { field, message } = describeSchemaError(validate.errors);
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: ${field} ${message}`, field);
  }
  const config = doc as unknown as Config;
  // A scan worker receives a request's text whole; one allocation larger than its heap is fatal
  // to the whole process, not just the worker (V8 cannot contain it), so the heap must leave room.
  const neededMb = Math.ceil((4 * config.limits.max_body_bytes) / (1 << 20));
  if (config.scan.worker_heap_mb < neededMb) {
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: scan.worker_heap_mb ${config.scan.worker_heap_mb} must be at least 4 × limits.max_body_bytes (${neededMb} MB)`, 'scan.worker_heap_mb');
  }
  // Node refuses a server whose header timeout outlasts its request timeout; say which setting to change.
  if (config.listen.headers_timeout_ms > config.listen.request_timeout_ms) {
    throw new ConfigError(
      `invalid configuration${file ? ` in ${file}` : ''}: listen.headers_timeout_ms ${config.listen.headers_timeout_ms} must not exceed listen.request_timeout_ms ${config.listen.request_timeout_ms}`,
      'listen.headers_timeout_ms',
    );
  }
  // A stdio MCP server's relay is opened and answered on the main loop; a connection another loop took could not reach it.
  const stdio = config.mcp.servers.find((s) => s.transport === 'stdio');
  if (config.listen.loops > 1 && stdio) {
    throw new ConfigError(
      `invalid configuration${file ? ` in ${file}` : ''}: listen.loops ${config.listen.loops} cannot serve the stdio MCP server ${stdio.name} (its relay lives on the main loop); set listen.loops to 1, or serve ${stdio.name} over HTTP`,
      'listen.loops',
    );
  }
  if (config.node.enforcement === 'bpf' || config.node.enforcement === 'nftables') {
    for (const field of config.node.enforcement === 'bpf' ? (['cgroup', 'transparent_host'] as const) : (['transparent_host'] as const)) {
      if (config.node[field] === undefined) {
        throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: node.${field} is required when node.enforcement is ${config.node.enforcement}`, `node.${field}`);
      }
    }
  }
  if (config.kubernetes.webhook.enabled) {
    for (const field of ['cert_file', 'key_file', 'trust_ca_file'] as const) {
      if (config.kubernetes.webhook[field] === undefined) throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: kubernetes.webhook.${field} is required when the webhook is enabled`, `kubernetes.webhook.${field}`);
    }
  }
  if (config.siem.sinks.length > 0 && !config.audit.enabled) throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: siem.sinks ship the audit log, and audit.enabled is false`, 'siem.sinks');
  for (const [i, sink] of config.siem.sinks.entries()) {
    const at = `siem.sinks.${i}`;
    if (sink.type === 'syslog' && !sink.address) throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: ${at}.address is required for a syslog sink (host:port)`, `${at}.address`);
    if (sink.type === 'syslog' && !sink.tls && !/^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(sink.address!)) {
      throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: ${at}.tls is false, so audit records would cross the network in clear: plain TCP is for a receiver on this host only (127.0.0.0/8, localhost, [::1])`, `${at}.tls`);
    }
    if (sink.type !== 'syslog') {
      if (!sink.url) throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: ${at}.url is required for an ${sink.type} sink`, `${at}.url`);
      const u = new URL(sink.url);
      const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
      if (u.protocol === 'http:' && !loopback) throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: ${at}.url must be https (audit records leave the machine); http only to a loopback address`, `${at}.url`);
    }
  }
  const sinkNames = config.siem.sinks.map((s) => s.name);
  const twice = sinkNames.find((n, i) => sinkNames.indexOf(n) !== i);
  if (twice) throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: siem.sinks names ${twice} twice (each sink has its own cursor)`, 'siem.sinks');
  const ct = config.control.tls;
  if ((ct.cert_file === undefined) !== (ct.key_file === undefined)) {
    const missing = ct.cert_file === undefined ? 'cert_file' : 'key_file';
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: control.tls.cert_file and control.tls.key_file go together; control.tls.${missing} is missing`, `control.tls.${missing}`);
  }
  if (ct.crl_file !== undefined && ct.client_ca_file === undefined) {
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: control.tls.crl_file is the revocation list of an external client CA: set control.tls.client_ca_file too (the control CA's own CRL is made by the agent)`, 'control.tls.crl_file');
  }
  const le = config.kubernetes.leader_election;
  if (!(le.retry_period_s < le.renew_deadline_s && le.renew_deadline_s < le.lease_duration_s)) {
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: kubernetes.leader_election needs retry_period_s < renew_deadline_s < lease_duration_s (have ${le.retry_period_s} < ${le.renew_deadline_s} < ${le.lease_duration_s}): a leader must stop before another may take over`, 'kubernetes.leader_election.renew_deadline_s');
  }
  if ((config.node.ca_cert_file === undefined) !== (config.node.ca_key_file === undefined)) {
    const missing = config.node.ca_cert_file === undefined ? 'ca_cert_file' : 'ca_key_file';
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: node.ca_cert_file and node.ca_key_file go together (the interception CA's certificate and its key); node.${missing} is missing`, `node.${missing}`);
  }
  const sources = SourcePolicy.compile(config.control.allow_cidrs, config.control.trusted_proxies, config.control.forwarded_header);
  if (sources && 'field' in sources) throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: ${sources.field} ${JSON.stringify(sources.value)} is not an IPv4 or IPv6 address or CIDR`, sources.field);
  if (config.fleet.control_plane !== undefined && config.fleet.ca_file === undefined) {
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: fleet.ca_file is required with fleet.control_plane (the fleet CA this node trusts its control plane by)`, 'fleet.ca_file');
  }
  const base = file ? resolve(cwd) : cwd;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  config.state_dir = abs(config.state_dir);
  if (config.fleet.ca_file !== undefined) config.fleet.ca_file = abs(config.fleet.ca_file);
  if (config.node.ca_cert_file !== undefined) config.node.ca_cert_file = abs(config.node.ca_cert_file);
  if (config.node.ca_key_file !== undefined) config.node.ca_key_file = abs(config.node.ca_key_file);
  return config;
}
