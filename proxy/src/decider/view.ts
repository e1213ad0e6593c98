// Each side's translation between its RequestContext and the seam's messages.
import type { IncomingHttpHeaders } from 'node:http';
import type { LentCredential, RemoteBody, RequestContext } from '../chain/context.js';
import type { Verdict } from '../core/verdict.js';
import { hashKey } from '../identity/keys.js';
import type { DecisionReply, DecisionView, LoopAnswer } from './messages.js';

/** Headers that carry credentials (presented.ts reads them): they never leave the loop. */
const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'proxy-authorization', 'cookie'];

function withoutCredentials(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) if (!CREDENTIAL_HEADERS.includes(name)) out[name] = headers[name];
  return out;
}

/** Loop: what the decider gets of a request. */
export function viewOf(ctx: RequestContext, source: string, lead: DecisionView['lead'] = { to: 0, verdict: null }, ahead: DecisionView['ahead'] = null): DecisionView {
  const { presented } = ctx;
  return {
    id: ctx.id,
    source,
    headers: withoutCredentials(ctx.headers),
    ingress: ctx.ingress,
    presented: { virtualHash: presented.virtual === null ? null : hashKey(presented.virtual), realIn: presented.realIn },
    call: ctx.call,
    pod: ctx.pod ?? null,
    principal: ctx.principal,
    lead,
    notes: ctx.notes.slice(0, ahead ? ctx.notes.length - ahead.answer.notes.length : ctx.notes.length),
    ahead,
  };
}

/** Decider: the request as its stages read it; the body stays in the loop, asked for through `sent`. */
export function deciderContext(view: DecisionView, sent: RemoteBody): RequestContext {
  return {
    id: view.id,
    headers: view.headers,
    ingress: view.ingress,
    presented: view.presented.virtualHash === null
      ? { virtual: null, realIn: view.presented.realIn, realValue: null }
      : { virtual: null, virtualHash: view.presented.virtualHash, realIn: view.presented.realIn, realValue: null },
    call: view.call,
    body: null,
    json: undefined,
    rewritten: null,
    content: null,
    key: null,
    principal: view.principal,
    pod: view.pod,
    charge: null,
    notes: view.notes,
    sent,
  };
}

/** Loop: what a loop stage it ran leaves for the decider. `notesBefore`: how many notes the request had before the stage ran. */
export function answerOf(ctx: RequestContext, verdict: Verdict | null, notesBefore: number): LoopAnswer {
  return {
    request: ctx.id,
    verdict,
    notes: ctx.notes.slice(notesBefore),
    content: ctx.content,
    sentBytes: ctx.rewritten ? ctx.rewritten.bytes.byteLength : ctx.ingress.bodyBytes,
    canary: ctx.canary ?? null,
  };
}

/** Decider: a loop stage's answer, taken into the decider's copy of the request. */
export function takeAnswer(ctx: RequestContext, answer: LoopAnswer): Verdict | null {
  ctx.notes.push(...answer.notes);
  ctx.content = answer.content;
  ctx.sent!.bytes = answer.sentBytes;
  if (answer.canary !== null) ctx.canary = answer.canary;
  return answer.verdict;
}

/** Decider: the verdict and what the loop's later phases read. */
export function replyOf(ctx: RequestContext, verdict: Verdict, credential: LentCredential | null = null): DecisionReply {
  let charge: DecisionReply['charge'] = null;
  if (ctx.charge) {
    const { reservation: _held, ...rest } = ctx.charge;
    charge = rest;
  }
  return {
    request: ctx.id,
    verdict,
    notes: ctx.notes,
    key: ctx.key,
    principal: ctx.principal,
    pod: ctx.pod ?? null,
    contracts: ctx.contracts?.map((c) => c.ref) ?? [],
    content: ctx.content,
    charge,
    credential,
  };
}

/** Loop: the decider's reply, taken into the loop's copy of the request. */
export function takeReply(ctx: RequestContext, reply: DecisionReply): Verdict {
  ctx.notes.length = 0;
  ctx.notes.push(...reply.notes);
  ctx.key = reply.key;
  ctx.principal = reply.principal;
  if (reply.pod) ctx.pod = reply.pod;
  if (reply.contracts.length) ctx.contractRefs = reply.contracts;
  ctx.content = reply.content;
  ctx.charge = reply.charge ? { ...reply.charge, reservation: null } : null;
  if (reply.credential) ctx.lent = reply.credential;
  return reply.verdict;
}
