import { formatAddress } from '../bpf/address.js';

// Reads the parts of a DNS response the destination set learns from: the question's name and
// the A/AAAA records answering it, with their TTLs. Anything malformed reads as nothing.

const TYPE_A = 1;
const TYPE_AAAA = 28;
const MAX_POINTER_HOPS = 16;

export interface DnsResponse {
  name: string;
  /** Every name the answer section speaks of: owners and CNAME targets (an alias of a provider's
   *  name, or the name its record points to, is the provider's too). */
  names: string[];
  answers: { address: string; ttl: number }[];
}

const TYPE_CNAME = 5;

/** The name at `at`, following compression pointers; with where the name's own bytes end. */
function readName(msg: Buffer, at: number): { name: string; end: number } | null {
  const labels: string[] = [];
  let end = -1;
  for (let hops = 0; hops <= MAX_POINTER_HOPS; ) {
    if (at >= msg.length) return null;
    const len = msg[at]!;
    if (len === 0) return { name: labels.join('.'), end: end < 0 ? at + 1 : end };
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= msg.length) return null;
      if (end < 0) end = at + 2;
      at = ((len & 0x3f) << 8) | msg[at + 1]!;
      hops++;
      continue;
    }
    if (len > 63 || at + 1 + len > msg.length) return null;
    labels.push(msg.toString('latin1', at + 1, at + 1 + len));
    at += 1 + len;
  }
  return null;
}


/** A response (QR set, no error) with one question: its name and address answers; else null. */
export function parseDnsResponse(msg: Buffer): DnsResponse | null {
  if (msg.length < 12) return null;
  const flags = msg.readUInt16BE(2);
  const questions = msg.readUInt16BE(4);
  const answerCount = msg.readUInt16BE(6);
  if ((flags & 0x8000) === 0 || (flags & 0x000f) !== 0 || questions !== 1) return null;
  const question = readName(msg, 12);
  if (!question || question.end + 4 > msg.length) return null;
  let at = question.end + 4;
  const answers: DnsResponse['answers'] = [];
  const names = new Set([question.name.toLowerCase()]);
  for (let i = 0; i < answerCount; i++) {
    const owner = readName(msg, at);
    if (!owner || owner.end + 10 > msg.length) break;
    names.add(owner.name.toLowerCase());
    const type = msg.readUInt16BE(owner.end);
    const ttl = msg.readUInt32BE(owner.end + 4);
    const length = msg.readUInt16BE(owner.end + 8);
    const data = owner.end + 10;
    if (data + length > msg.length) break;
    // CNAME chains answer the question too: every address in the answer section is its answer.
    if (type === TYPE_A && length === 4) answers.push({ address: Array.from(msg.subarray(data, data + 4)).join('.'), ttl });
    else if (type === TYPE_AAAA && length === 16) answers.push({ address: formatAddress(msg.subarray(data, data + 16)), ttl });
    else if (type === TYPE_CNAME) {
      const target = readName(msg, data);
      if (target) names.add(target.name.toLowerCase());
    }
    at = data + length;
  }
  return { name: question.name, names: [...names], answers };
}
