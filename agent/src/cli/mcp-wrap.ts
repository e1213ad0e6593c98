import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { runWrap, WrapRefused } from '../mcp/wrap.js';

export const WRAP_HELP = `altrace mcp wrap — a stdio MCP server, governed by the proxy

Usage:
  altrace mcp wrap --server NAME [--proxy URL] [--key KEY] [--run ID] -- COMMAND [ARG ...]

Starts COMMAND (the MCP server, as the client's config started it) and relays its stdio through
the Altrace proxy, as the agent whose key it holds: every message the client sends passes the
chain (key, kill switch, contracts, tool pins, approvals, content), and the server's answers pass
the response stages (tool-list pins and poisoning, output scanning, toxic flows), as for a server
at /mcp/NAME over HTTP. The agent's config declares the server with transport: stdio.

  --server NAME   the server's name in the agent's config (mcp.servers, transport: stdio) and policy
  --proxy URL     the proxy (default: ALTRACE_PROXY_URL, else http://127.0.0.1:8080)
  --key KEY       the agent's virtual key (default: ALTRACE_KEY)
  --run ID        x-altrace-run for this session's calls (default: ALTRACE_RUN)

In a client config, "command": "npx", "args": ["-y", "some-server"] becomes
"command": "altrace", "args": ["mcp", "wrap", "--server", "some", "--", "npx", "-y", "some-server"]
(altrace mcp scan --emit-config writes that). The server's own requests (sampling, elicitation,
roots) and notifications reach the client on the agent's event stream through the proxy, where the
response stages see them; if the proxy refuses that stream, only list-changed, progress and
cancellation notifications are passed, and the server's requests are answered with an error.
Each stream of them ends after ALTRACE_WRAP_STREAM_ROTATE_MS (default 60000) and the next one opens,
under the proxy's listen.request_timeout_ms.

Exit codes: the server's own; 1 when the proxy refuses or ends the relay (a kill); 2 usage error;
127 when COMMAND cannot be started.
`;

export async function wrapCommand(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  const own = dash < 0 ? args : args.slice(0, dash);
  const command = dash < 0 ? [] : args.slice(dash + 1);
  const { values } = parseArgs({
    args: own,
    options: {
      server: { type: 'string' },
      proxy: { type: 'string' },
      key: { type: 'string' },
      run: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(WRAP_HELP);
    return 0;
  }
  if (!values.server || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(values.server)) throw new UsageError('wrap needs --server NAME (the mcp.servers name of the agent config, lower case)');
  if (command.length === 0) throw new UsageError('wrap needs the server command after --, e.g. altrace mcp wrap --server files -- npx -y @modelcontextprotocol/server-filesystem /data');
  const key = values.key ?? process.env.ALTRACE_KEY;
  if (!key) throw new UsageError('wrap needs the agent\'s virtual key: --key or ALTRACE_KEY');
  const proxyUrl = values.proxy ?? process.env.ALTRACE_PROXY_URL ?? 'http://127.0.0.1:8080';
  try {
    new URL(proxyUrl);
  } catch {
    throw new UsageError(`--proxy ${proxyUrl} is not a URL`);
  }
  const run = values.run ?? process.env.ALTRACE_RUN;
  try {
    const code = await runWrap({
      proxyUrl,
      server: values.server,
      key,
      command: command[0]!,
      args: command.slice(1),
      ...(run ? { run } : {}),
      input: process.stdin,
      output: process.stdout,
      log: (m) => void process.stderr.write(m + '\n'),
    });
    // The client's pipe may still be open (the relay ended, or the server exited): nothing more is read from it.
    process.stdin.destroy();
    return code;
  } catch (err) {
    if (err instanceof WrapRefused) {
      process.stderr.write(`altrace mcp wrap: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
