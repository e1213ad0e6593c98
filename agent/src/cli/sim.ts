import { parseArgs } from 'node:util';
import { SimulatedProvider } from '../sim/server.js';
import { UsageError } from '../errors.js';

const HELP = `altrace sim — a simulated LLM provider, for trying Altrace with no provider key

Usage: altrace sim [--host ADDR] [--port N] [--json] [--no-record]

Serves the OpenAI, Azure OpenAI, Anthropic, Gemini and Bedrock wire formats (streaming
included) with canned answers, until Ctrl-C or SIGTERM. Point the agent at it:

  ALTRACE_OPENAI_BASE_URL=http://HOST:PORT/v1     OPENAI_API_KEY=sk-anything
  ALTRACE_ANTHROPIC_BASE_URL=http://HOST:PORT     ANTHROPIC_API_KEY=anything
  ALTRACE_GEMINI_BASE_URL=http://HOST:PORT        GEMINI_API_KEY=anything
  AZURE_OPENAI_ENDPOINT=http://HOST:PORT          AZURE_OPENAI_API_KEY=anything
  ALTRACE_BEDROCK_BASE_URL=http://HOST:PORT       AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…

Options:
  --host ADDR    address to listen on (default 127.0.0.1; it has no authentication and
                 shows what it received, provider keys included: keep it on loopback)
  --port N       port (default 0: a free one, printed)
  --json         print {"url","port"} as one JSON line instead of the text above
  --no-record    keep no received requests (benchmarks); by default the last 1000 are kept

Scripting (HTTP, for tests and demos):
  POST /__sim/script    {"next": SCRIPT} for the next request, {"default": SCRIPT} for all after;
                        SCRIPT: text, fragments[], latencyMs, fragmentDelayMs, usage{input,output},
                        error{status,message}, resetAfter, hang, toolCall{name,arguments},
                        raw{status,contentType,body}, truncateStream (no-terminal|mid-event)
  GET  /__sim/requests  what it received; POST /__sim/reset forgets it and the scripts
`;

export async function simCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      json: { type: 'boolean' },
      'no-record': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number 0-65535, got "${values.port}"`);
  const sim = new SimulatedProvider();
  sim.recordLimit = 1000;
  if (values['no-record']) sim.record = false;
  try {
    await sim.start(port, values.host ?? '127.0.0.1');
  } catch (err) {
    throw new UsageError(`cannot listen on ${values.host ?? '127.0.0.1'}:${port}: ${(err as Error).message}`);
  }
  process.stdout.write(values.json ? JSON.stringify({ url: sim.url, port: sim.port }) + '\n' : describe(sim.url));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  return 0;
}

function describe(url: string): string {
  return [
    `simulated provider on ${url} (OpenAI, Azure OpenAI, Anthropic, Gemini, Bedrock); Ctrl-C to stop`,
    `point the agent at it:  ALTRACE_OPENAI_BASE_URL=${url}/v1 OPENAI_API_KEY=sk-simulated npm start`,
    '',
  ].join('\n');
}
