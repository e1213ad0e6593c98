import type { IncomingHttpHeaders } from 'node:http';
import type { Charge } from '../budget/charge.js';
import type { CallView } from '../core/call-view.js';
import type { IngressFacts } from '../core/ingress-facts.js';
import type { Principal, VirtualKey } from '../identity/keys.js';
import type { PodRef } from '../identity/pod.js';
import type { Presented } from '../identity/presented.js';
import type { Verdict } from '../core/verdict.js';
import type { Contract } from '../contracts/compile.js';
import type { Evidence } from '../contracts/evidence.js';
import type { VerifiedChain } from '../delegation/verify.js';
import type { Credential } from '../upstream/credential.js';

/** One request as the chain sees it. Stages read it; identity annotates the principal. */
export interface RequestContext {
  readonly id: string;
  readonly headers: IncomingHttpHeaders;
  readonly ingress: IngressFacts;
  readonly presented: Presented;
  /** Null only when the request never reached an adapter (unknown path, bad body). */
  readonly call: CallView | null;
  /** The request body as received (null when there was none or it was refused unread). */
  readonly body: Uint8Array | null;
  /** The body parsed (undefined when there was none or it was not JSON). */
  readonly json: unknown;
  /** Set by a stage that changed the body (redaction): what is sent upstream instead. */
  rewritten: { json: unknown; bytes: Uint8Array } | null;
  /**
   * Set on the decider's side of the seam, where body and rewrite are not (they stay in the
   * loop): the size of the body the provider will receive, and a way to ask the loop for its text.
   */
  sent?: RemoteBody;
  /** Data-classification labels and the rule ids that produced them, request and response; never the text. */
  content: ContentFacts | null;
  /** The canary planted in this request's system prompt, if any. */
  canary?: string;
  key: VirtualKey | null;
  principal: Principal | null;
  /** The pod a transparently redirected request came from, when the node agent knows it. */
  pod?: PodRef | null;
  /** Set by the budget stage: what settlement charges when the request ends. */
  charge: Charge | null;
  /** Non-deciding verdicts (warn) collected on the way. */
  readonly notes: Verdict[];
  /** Set by the contract stage: the contracts that govern this principal (all must allow). */
  contracts?: readonly Contract[];
  /** On a loop across the decider seam: the contracts' name@version (the contracts stay with the decider). */
  contractRefs?: readonly string[];
  /** On a loop across the decider seam: the credential the decider lent for the call's upstream with its verdict. */
  lent?: LentCredential;
  /** Set by the delegation stage: the verified chain the agent presented, and its grant as a contract. */
  delegation?: { chain: VerifiedChain; contract: Contract };
  /** Set by the contract stage: tools that have returned in this run, for evidence rules. */
  evidence?: readonly Evidence[];
}

/**
 * The run a request belongs to (x-altrace-run), bounded; for an MCP client that sends none,
 * its MCP session. Null when neither is present.
 */
export function runOf(headers: IncomingHttpHeaders): string | null {
  const run = headers['x-altrace-run'];
  if (typeof run === 'string' && run !== '') return run.slice(0, 200);
  const session = headers['mcp-session-id'];
  return typeof session === 'string' && session !== '' ? `mcp-session:${session.slice(0, 200)}` : null;
}

/** The body the provider will receive, as text: the rewrite when a stage made one. */
export function sentText(ctx: RequestContext): string {
  if (ctx.rewritten) return Buffer.from(ctx.rewritten.bytes).toString('utf8');
  return ctx.body ? Buffer.from(ctx.body.buffer, ctx.body.byteOffset, ctx.body.byteLength).toString('utf8') : '';
}

export interface LentCredential {
  upstream: string;
  credential: Credential | null;
  /** Why there is none, when the credential source knows. */
  problem: string | null;
}

export interface RemoteBody {
  bytes: number;
  text(): Promise<string>;
}

export interface ContentFacts {
  labels: Set<string>;
  rules: Set<string>;
  /** Request labels still in the body as forwarded (not redacted): what the destination receives. */
  outbound: Set<string>;
}

export interface ResponseContext {
  readonly request: RequestContext;
  readonly streaming: boolean;
  /** A stream whose events can be re-serialised with masked text (its format allows it). */
  readonly maskable?: boolean;
  /** An upstream error body (4xx/5xx): scanned as content the agent receives, not the model's answer. */
  readonly errorBody?: boolean;
}
