import type { PinnedTool } from '../policy/mcp-registry.js';

/** One server's tool as a pin holds it: its two digests and its hints. */
export interface ToolPinOf {
  server: string;
  tool: string;
  model: string;
  structure: string;
  readOnly: boolean | null;
  destructive: boolean | null;
}

/** A tool listed unlike its pin, or not pinned at all, as it would be pinned if an operator approves it. */
export interface PinProposal extends ToolPinOf {
  /** changed: it has a pin and reads (or is shaped) otherwise; new: the registry does not list it. */
  change: 'changed' | 'new';
}

/** Who listed it: the approval names the agent and request that saw the change. */
export interface ProposalWitness {
  requestId: string;
  agent: string;
  team: string;
  keyId: string;
  run: string | null;
}

/** Where proposals go (an approval each, agent side). Must not block: the list is refused either way. */
export interface PinReviewDesk {
  /** The approval that reviews this change (opened now, or still pending); null when it was decided already. */
  propose(p: PinProposal, seenBy: ProposalWitness): string | null;
}

/**
 * Pins operators approved after a change (`/approvals/{id}/approve` on an mcp-pin approval),
 * beside the policy's own: a listed tool matches its policy pin or its approved one. Filled from
 * the store at start and by each approval; the policy file is never rewritten.
 */
export class ApprovedPins {
  readonly #servers = new Map<string, Map<string, PinnedTool>>();
  /** Set where changes open approvals (single node); null: a change is only refused. */
  desk: PinReviewDesk | null = null;

  get(server: string, tool: string): PinnedTool | undefined {
    return this.#servers.get(server)?.get(tool);
  }

  set(server: string, tool: string, pin: PinnedTool): void {
    let tools = this.#servers.get(server);
    if (!tools) this.#servers.set(server, (tools = new Map()));
    tools.set(tool, pin);
  }

  /** Approved pins of other servers, for shadowing checks: every name this overlay approved. */
  *names(): IterableIterator<{ server: string; tool: string }> {
    for (const [server, tools] of this.#servers) for (const tool of tools.keys()) yield { server, tool };
  }
}
