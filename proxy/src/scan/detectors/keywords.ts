import { wasmAutomaton, type WasmAutomaton } from './keyword-wasm.js';

/**
 * Which keywords occur in a text, in one pass: an Aho-Corasick automaton over lower-case
 * ASCII, compiled to a dense transition table so the scan is one array read per character.
 * This is the cheap prefilter in front of the detectors' regexes: a detector whose keywords
 * do not occur never runs. Characters outside ASCII lead back to the root (keywords are ASCII).
 *
 * Long texts run through the same table in WebAssembly (keyword-wasm.ts), over their UTF-8
 * bytes: ASCII is unchanged and every byte of a longer character is ≥ 0x80, which no column
 * holds, so it sees what the character loop sees. Short texts (stream fragments) stay in
 * JavaScript, where there is no call to set up.
 */
/** From this many characters a text goes through the WebAssembly loop. */
const WASM_FROM = 1024;

export class KeywordIndex {
  readonly #delta: Uint16Array | Uint32Array;
  /** Byte (ASCII, lower-cased; ≥ 0x80 is never in a keyword) → column; 0 for bytes no keyword contains. */
  readonly #column: Uint8Array;
  readonly #wasm: WasmAutomaton | null;
  /** The states that emit keywords: what is read back after a WebAssembly scan. */
  readonly #emitting: Int32Array;
  readonly #shift: number;
  /** For each state, the keyword ids that end there (including through failure links). */
  readonly #outputs: (readonly number[])[];
  /** 1 where a state has outputs: the scan loop touches #outputs only there. */
  readonly #emits: Uint8Array;
  readonly keywords: readonly string[];

  constructor(keywords: readonly string[]) {
    this.keywords = keywords;
    const goto: Map<number, number>[] = [new Map()];
    const out: number[][] = [[]];
    // The automaton matches lower-cased text: a keyword given in capitals must be lowered too.
    keywords.forEach((given, id) => {
      const kw = given.toLowerCase();
      let s = 0;
      for (let i = 0; i < kw.length; i++) {
        const c = kw.charCodeAt(i);
        if (c > 127) throw new RangeError(`keyword ${JSON.stringify(kw)} is not ASCII`);
        let next = goto[s]!.get(c);
        if (next === undefined) {
          next = goto.length;
          goto.push(new Map());
          out.push([]);
          goto[s]!.set(c, next);
        }
        s = next;
      }
      out[s]!.push(id);
    });
    // Columns only for the characters keywords use: a table small enough to stay in cache.
    const column = new Uint8Array(256);
    let columns = 1;
    for (const given of keywords) {
      const kw = given.toLowerCase();
      for (let i = 0; i < kw.length; i++) if (column[kw.charCodeAt(i)] === 0) column[kw.charCodeAt(i)] = columns++;
    }
    for (let c = 65; c <= 90; c++) column[c] = column[c | 32]!;
    const shift = Math.max(1, Math.ceil(Math.log2(columns)));
    const dense = new Int32Array(goto.length * 128);
    const fail = new Int32Array(goto.length);
    const queue: number[] = [];
    for (let c = 0; c < 128; c++) {
      const next = goto[0]!.get(c);
      if (next !== undefined) {
        dense[c] = next;
        queue.push(next);
      }
    }
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      out[s]!.push(...out[fail[s]!]!);
      for (let c = 0; c < 128; c++) {
        const next = goto[s]!.get(c);
        if (next !== undefined) {
          fail[next] = dense[fail[s]! * 128 + c]!;
          dense[s * 128 + c] = next;
          queue.push(next);
        } else dense[s * 128 + c] = dense[fail[s]! * 128 + c]!;
      }
    }
    // States renumbered breadth first: text mostly moves among the root and the shallow states,
    // so their rows sit together at the front of the table and stay in cache between scans.
    const rank = new Int32Array(goto.length);
    queue.forEach((s, i) => (rank[s] = i + 1));
    const delta = goto.length < 65536 ? new Uint16Array(goto.length << shift) : new Uint32Array(goto.length << shift);
    for (let s = 0; s < goto.length; s++) {
      for (let c = 0; c < 128; c++) if (column[c] !== 0 && (c < 65 || c > 90)) delta[(rank[s]! << shift) | column[c]!] = rank[dense[s * 128 + c]!]!;
    }
    const ranked: number[][] = new Array(goto.length);
    out.forEach((o, s) => (ranked[rank[s]!] = o));
    this.#delta = delta;
    this.#column = column;
    this.#shift = shift;
    this.#outputs = ranked.map((o) => [...new Set(o)]);
    this.#emits = Uint8Array.from(this.#outputs, (o) => (o.length > 0 ? 1 : 0));
    this.#emitting = Int32Array.from(this.#outputs.flatMap((o, s) => (o.length > 0 ? [s] : [])));
    this.#wasm = wasmAutomaton(delta, column, this.#emits, shift);
  }

  /** Which loop serves long texts: WebAssembly, or JavaScript where it is unavailable. */
  get engine(): 'wasm' | 'js' {
    return this.#wasm ? 'wasm' : 'js';
  }

  /**
   * Marks in `hit` (indexed by keyword id) every keyword that occurs in text, case-insensitively;
   * `found`, when given, receives each id as it is first marked.
   */
  scan(text: string, hit: Uint8Array, found?: number[]): void {
    if (this.#wasm && text.length >= WASM_FROM) {
      const reached = this.#wasm.scan(text);
      for (const s of this.#emitting) if (reached[s] !== 0) this.#emit(s, hit, found);
      return;
    }
    const delta = this.#delta;
    const emits = this.#emits;
    const column = this.#column;
    const shift = this.#shift;
    let s = 0;
    for (let i = 0, n = text.length; i < n; i++) {
      const c = text.charCodeAt(i);
      s = c > 127 ? 0 : delta[(s << shift) | column[c]!]!;
      if (emits[s] !== 0) this.#emit(s, hit, found);
    }
  }

  #emit(state: number, hit: Uint8Array, found: number[] | undefined): void {
    for (const k of this.#outputs[state]!) {
      if (hit[k] !== 0) continue;
      hit[k] = 1;
      found?.push(k);
    }
  }
}
