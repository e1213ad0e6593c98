import { randomBytes } from 'node:crypto';
import type { ApprovedPins, Logger, PinProposal, PinReviewDesk, ProposalWitness } from '../../../proxy/src/index.js';
import type { ServiceStore, StoreOps } from '../state/service-store.js';
import type { ApprovalRecord, ApprovalStatus, ApprovedPinRecord } from '../state/store.js';

/** How long a pin review stays open: nothing waits on it, the list is refused meanwhile. */
const REVIEW_MS = 30 * 24 * 3_600_000;

/** A followed node's way to ask: its control plane stores the review (with the proposal) and every node learns the approval. */
export interface RemotePinReviews {
  proposePin(record: ApprovalRecord, proposal: PinProposal): void;
}

const CHANGED_NOTE = 'reads otherwise than its pin';
const SUBJECT = /^mcp:(\S+) tool (\S+) \(reads otherwise than its pin;/;

/** The server and tool an mcp-pin review of a changed tool is about (from its subject); null for anything else. */
export function changedToolOf(a: ApprovalRecord): { server: string; tool: string } | null {
  const m = a.kind === 'mcp-pin' ? SUBJECT.exec(a.subject) : null;
  return m ? { server: m[1]!, tool: m[2]! } : null;
}

const keyOf = (p: { server: string; tool: string; model: string; structure: string }): string => `${p.server}\0${p.tool}\0${p.model}\0${p.structure}`;

/**
 * Approving a changed MCP tool instead of editing the policy. A tools/list answer whose tool reads
 * otherwise than its pin (or a tool the registry does not list) is refused, and opens one
 * approval (kind mcp-pin) carrying the tool as it reads now: one per distinct change, however
 * often it is listed, and none again for a change an operator denied. Approving it records that
 * definition as the tool's pin, in the same transaction as the decision; from then on the
 * listing matches (the policy's pin still does too, so the old definition is not refused either).
 */
export class PinReviewService implements PinReviewDesk {
  /** Changes asked about already (pending, approved or denied), by server, tool and digests. */
  readonly #asked = new Map<string, { id: string; status: ApprovalStatus }>();
  /**
   * Reviews are stored one after the other: a list with several new tools proposes them in one
   * loop, and the store's transaction stays open across microtasks, so a second BEGIN in the same
   * tick would fail (it did: the whole list was refused as a failed stage, and no review opened).
   */
  #writes: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: ServiceStore,
    private readonly pins: ApprovedPins,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly remote: RemotePinReviews | null,
  ) {}

  /**
   * Fills the overlay with the pins approved so far and remembers what was asked. On a followed
   * node (`remote`) both come from the control plane's stream instead, and reviews are asked there.
   */
  static async open(store: ServiceStore, pins: ApprovedPins, log: Logger, now: () => number = Date.now, remote: RemotePinReviews | null = null): Promise<PinReviewService> {
    const service = new PinReviewService(store, pins, log, now, remote);
    for (const p of await store.listApprovedPins()) pins.set(p.server, p.tool, { model: p.model, structure: p.structure, readOnly: p.readOnly, destructive: p.destructive, labels: null });
    // An expired review may be asked again; the others stand.
    for (const p of await store.listPinProposals()) if (p.status !== 'expired') service.#asked.set(keyOf(p), { id: p.approvalId, status: p.status });
    pins.desk = service;
    return service;
  }

  propose(p: PinProposal, seenBy: ProposalWitness): string | null {
    const key = keyOf(p);
    const known = this.#asked.get(key);
    if (known) return known.status === 'pending' ? known.id : null;
    const createdAt = this.now();
    const record: ApprovalRecord = {
      id: `apr_${randomBytes(9).toString('base64url')}`,
      status: 'pending',
      createdAt,
      expiresAt: createdAt + REVIEW_MS,
      ...seenBy,
      contract: '',
      rule: p.change === 'new' ? 'mcp-tool-new' : 'mcp-tool-changed',
      kind: 'mcp-pin',
      subject: `mcp:${p.server} tool ${p.tool} (${p.change === 'new' ? 'not in the registry' : CHANGED_NOTE}; proposed ${p.model.slice(0, 19)}…)`,
      decidedAt: null,
      decidedBy: null,
      reason: null,
    };
    this.#asked.set(key, { id: record.id, status: 'pending' });
    if (this.remote) {
      // The control plane keeps one review per change, however many nodes (or restarts of this one) ask.
      this.remote.proposePin(record, p);
      return record.id;
    }
    this.#writes = this.#writes
      .then(() =>
        this.store.transaction(async (tx) => {
          await tx.insertApproval(record);
          await tx.insertPinProposal({ approvalId: record.id, server: p.server, tool: p.tool, model: p.model, structure: p.structure, readOnly: p.readOnly, destructive: p.destructive, change: p.change });
        }),
      )
      .catch((err: Error) => {
        // Asked again at the next listing: the list is refused meanwhile either way.
        this.#asked.delete(key);
        this.log.warn({ err: err.message, server: p.server, tool: p.tool }, 'an MCP pin review could not be stored');
      });
    return record.id;
  }

  /**
   * In the decision's transaction: an approved review becomes the tool's pin. Returns what to do
   * once it committed (the overlay, the memory of what was asked), or null for other approvals.
   */
  async decided(tx: StoreOps, approval: ApprovalRecord, status: Exclude<ApprovalStatus, 'pending'>, by: string | null, at: number): Promise<{ pin: ApprovedPinRecord | null; apply: () => void } | null> {
    if (approval.kind !== 'mcp-pin') return null;
    const p = await tx.getPinProposal(approval.id);
    if (!p) return null;
    let pin: ApprovedPinRecord | null = null;
    if (status === 'approved') {
      pin = { server: p.server, tool: p.tool, model: p.model, structure: p.structure, readOnly: p.readOnly, destructive: p.destructive, approvalId: approval.id, approvedBy: by ?? 'unknown', approvedAt: at };
      await tx.putApprovedPin(pin);
    }
    return {
      pin,
      apply: () => {
        if (status === 'expired') this.#asked.delete(keyOf(p));
        else this.#asked.set(keyOf(p), { id: approval.id, status });
        if (pin) this.pins.set(pin.server, pin.tool, { model: pin.model, structure: pin.structure, readOnly: pin.readOnly, destructive: pin.destructive, labels: null });
      },
    };
  }
}
