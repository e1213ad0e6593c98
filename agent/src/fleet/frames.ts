// The node stream's framing (docs/fleet.md, "The node stream"): each FleetFrame
// (proto/altrace/v1/fleet.proto) prefixed by its length, 4 bytes big-endian, on one HTTP/2
// stream. Shared by the control plane and the node's follower.
import type protobuf from 'protobufjs';
import { loadProto } from '../audit/records.js';
import { AltraceError } from '../errors.js';

/** Where a part of the node sends frames on its stream to the control plane; false when it cannot now. */
export interface FrameLink {
  send(body: Record<string, unknown>): boolean;
}

/** A frame the stream cannot take: too large, not a FleetFrame, from another stream, replayed or out of order. */
export class FrameError extends AltraceError {
  constructor(message: string) {
    super('ALT_FLEET_FRAME_INVALID', message);
  }
}

/** The node stream's content type (POST /fleet/v1/stream, both ways). */
export const FLEET_CONTENT_TYPE = 'application/x-altrace-fleet';

/** Large enough for a snapshot of a big fleet's state; a peer that sends more is not speaking this protocol. */
export const MAX_FRAME_BYTES = 64 << 20;
const PREFIX = 4;

const FrameType: protobuf.Type = loadProto('altrace/v1/fleet.proto').lookupType('altrace.v1.fleet.FleetFrame');

/** A decoded frame: the fields as the schema names them (snake_case); `body` says which one it carries. */
export type Frame = { stream_id: string; seq: number; body: string } & Record<string, unknown>;

export function encodeFrame(frame: { stream_id: string; seq: number } & Record<string, unknown>): Buffer {
  const problem = FrameType.verify(frame);
  if (problem) throw new FrameError(`not a FleetFrame: ${problem}`);
  const body = FrameType.encode(FrameType.fromObject(frame)).finish();
  const out = Buffer.allocUnsafe(PREFIX + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, PREFIX);
  return out;
}

/**
 * Cuts a byte stream into frames, whatever the chunking: push() what arrived, get the frames
 * it completed. A length over MAX_FRAME_BYTES or bytes that are not a FleetFrame throw
 * FrameError; the stream is then to be ended (its framing is lost).
 */
export class FrameDecoder {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes the frame begun needs in all: a large frame arriving in many chunks is joined once, when whole. */
  #need = PREFIX;

  push(chunk: Buffer): Frame[] {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes < this.#need) return [];
    const frames: Frame[] = [];
    let buf = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    let at = 0;
    while (buf.length - at >= PREFIX) {
      const size = buf.readUInt32BE(at);
      if (size > MAX_FRAME_BYTES) throw new FrameError(`a frame of ${size} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
      if (buf.length - at - PREFIX < size) break;
      frames.push(decode(buf.subarray(at + PREFIX, at + PREFIX + size)));
      at += PREFIX + size;
    }
    buf = buf.subarray(at);
    this.#need = buf.length >= PREFIX ? PREFIX + buf.readUInt32BE(0) : PREFIX;
    this.#pending = buf.length ? [buf] : [];
    this.#pendingBytes = buf.length;
    return frames;
  }

  /** Bytes of a frame begun but not complete: at the end of the stream, a cut frame. */
  get incompleteBytes(): number {
    return this.#pendingBytes;
  }
}

function decode(bytes: Buffer): Frame {
  let message: protobuf.Message;
  try {
    message = FrameType.decode(bytes);
  } catch (err) {
    throw new FrameError(`not a FleetFrame: ${(err as Error).message}`);
  }
  const frame = FrameType.toObject(message, { longs: Number, bytes: Buffer, oneofs: true, defaults: true }) as Frame;
  if (!frame.body) throw new FrameError('a FleetFrame with no body');
  return frame;
}

/**
 * One direction of one stream: every frame must carry this stream's id and the next sequence
 * number, so a frame recorded from another stream, replayed, or dropped in between is refused.
 */
export class FrameSequence {
  #next = 1;

  constructor(readonly streamId: string) {}

  /** The id and number for the next frame this side sends. */
  stamp(): { stream_id: string; seq: number } {
    return { stream_id: this.streamId, seq: this.#next++ };
  }

  /** Accepts the next frame received, or throws FrameError naming what is wrong with it. */
  accept(frame: Frame): void {
    if (frame.stream_id !== this.streamId) throw new FrameError(`a frame of stream ${JSON.stringify(frame.stream_id.slice(0, 64))} on stream ${this.streamId}`);
    if (frame.seq !== this.#next) throw new FrameError(frame.seq < this.#next ? `frame ${frame.seq} again (replayed): expected ${this.#next}` : `frame ${frame.seq} out of order: expected ${this.#next}`);
    this.#next++;
  }
}
