// The audit writer thread: the only writer of the log. The request path posts events and
// moves on; encoding, hashing, the fsync and checkpoint signing all happen here.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { NoteSigner } from './checkpoint.js';
import { auditPaths, MAX_RECORD_BYTES, readCheckpoints, readFrames } from './files.js';
import { CompactRange, leafHash, type Hash } from './merkle.js';
import type { FromWriter, ToWriter, WriterConfig } from './messages.js';
import { chainHeadBound, unpackEvents, writeChainHead } from './records.js';

const config = workerData as WriterConfig;
const paths = auditPaths(config.stateDir);
const post = (m: FromWriter) => parentPort!.postMessage(m);

mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
if (!existsSync(paths.key)) writeFileSync(paths.key, NoteSigner.generate(config.origin).toPem(), { mode: 0o600 });
const signer = NoteSigner.fromPem(config.origin, readFileSync(paths.key, 'utf8'));
// The public half, for `altrace audit verify` and for anyone checking proofs offline.
writeFileSync(paths.verifier, signer.verifierKey + '\n', { mode: 0o644 });

// Rebuild the tree from what is on disk. A frame torn by a crash mid-write is cut off: it was
// never fsynced, so no checkpoint covers it. Anything else unreadable is not repaired: the
// agent stops and says where, as cutting there could throw away records that verify.
const existing = readFrames(paths.records);
const stored = readCheckpoints(paths.checkpoints).checkpoints;
const signedSize = stored.length ? stored[stored.length - 1]!.size : 0;
if (existing.damage) {
  const d = existing.damage;
  throw new Error(
    `audit log ${paths.records} cannot be read past record ${d.index} (byte ${d.offset}): a frame there claims ${d.claimed} bytes, over the ${MAX_RECORD_BYTES}-byte limit. ` +
      `Nothing was changed. \`altrace audit verify\` names what verifies; keep the file as evidence (move it aside to start a new log).`,
  );
}
if (existing.tailBytes > 0 && existing.records.length < signedSize) {
  throw new Error(
    `audit log ${paths.records} holds ${existing.records.length} whole records but checkpoint ${stored.length} signed ${signedSize}; ${existing.tailBytes} bytes after record ${existing.records.length - 1} are not whole. ` +
      `Nothing was changed: the log was damaged, not torn by a crash. \`altrace audit verify\` names what verifies.`,
  );
}
if (existing.tailBytes > 0) truncateSync(paths.records, existing.wholeBytes);
const tree = new CompactRange();
let lastLeaf: Hash = Buffer.alloc(0);
for (const r of existing.records) {
  lastLeaf = leafHash(r);
  tree.append(lastLeaf);
}
let checkpointed = signedSize;
const recordsFd = openSync(paths.records, 'a', 0o600);
const checkpointsFd = openSync(paths.checkpoints, 'a', 0o600);

/** Frames a batch's records into one buffer and writes it at once: [4-byte length][record] each. */
function append(packed: ArrayBuffer): void {
  const events = unpackEvents(packed);
  if (events.length === 0) return;
  let bound = 0;
  for (const e of events) {
    // Never write what the reader refuses: such a record would end verification, and the next
    // start, there. Checked before anything is appended, so the tree and the file stay one.
    if (chainHeadBound(32) + e.length > MAX_RECORD_BYTES) throw new Error(`an audit record of ${e.length} bytes is over the ${MAX_RECORD_BYTES}-byte limit; the batch was not written`);
    bound += 4 + chainHeadBound(32) + e.length;
  }
  const out = Buffer.allocUnsafe(bound);
  let at = 0;
  for (const e of events) {
    const start = at + 4;
    let end = writeChainHead(out, start, tree.size, lastLeaf);
    out.set(e, end);
    end += e.length;
    out.writeUInt32BE(end - start, at);
    lastLeaf = leafHash(out.subarray(start, end));
    tree.append(lastLeaf);
    at = end;
  }
  // A write to a regular file may still stop short (a signal, a full disk): the rest follows or throws.
  for (let written = 0; written < at; ) written += writeSync(recordsFd, out, written, at - written);
}

function checkpoint(): string | null {
  if (tree.size === checkpointed) return null;
  fsyncSync(recordsFd); // a checkpoint never covers records that are not on disk
  const note = signer.sign({ origin: config.origin, size: tree.size, root: tree.root() });
  writeSync(checkpointsFd, JSON.stringify({ size: tree.size, note }) + '\n');
  fsyncSync(checkpointsFd);
  checkpointed = tree.size;
  return note;
}

const timer = setInterval(() => {
  try {
    checkpoint();
  } catch (err) {
    post({ type: 'failed', id: null, message: `checkpoint: ${(err as Error).message}` });
  }
}, config.checkpointIntervalMs);

parentPort!.on('message', (m: ToWriter) => {
  try {
    switch (m.type) {
      case 'append':
        append(m.events);
        break;
      case 'durable':
        append(m.events);
        fsyncSync(recordsFd);
        post({ type: 'written', id: m.id, size: tree.size });
        break;
      case 'checkpoint':
        post({ type: 'checkpointed', id: m.id, size: tree.size, note: checkpoint() });
        break;
      case 'close':
        clearInterval(timer);
        checkpoint();
        closeSync(recordsFd);
        closeSync(checkpointsFd);
        post({ type: 'closed', id: m.id });
        parentPort!.close();
        break;
    }
  } catch (err) {
    post({ type: 'failed', id: 'id' in m ? m.id : null, message: (err as Error).message });
  }
});

post({ type: 'ready', size: tree.size, verifierKey: signer.verifierKey, repairedBytes: existing.tailBytes });
