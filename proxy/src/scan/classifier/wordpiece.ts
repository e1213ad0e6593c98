// BERT's WordPiece tokenizer (basic tokenization, then greedy longest-match sub-words against a
// vocab.txt), so an operator can run an exported BERT-family classifier (BERT, DistilBERT, MiniLM,
// ELECTRA) from its ONNX file and its vocab.txt, without a Python tokenizer beside the proxy.

export interface WordPieceOptions {
  /** Lower-case and strip accents first (the "uncased" models). */
  lowerCase: boolean;
  /** Tokens per window, [CLS] and [SEP] included (the model's max_position_embeddings at most). */
  maxTokens: number;
}

/** Windows of token ids as a batch: `ids` and `mask` are rows × width, padded with the [PAD] id. */
export interface Encoded {
  rows: number;
  width: number;
  ids: BigInt64Array;
  mask: BigInt64Array;
}

const MAX_WORD_CHARS = 100;

function isPunctuation(cp: number): boolean {
  // BERT counts every ASCII non-alphanumeric as punctuation, as well as the Unicode P* classes.
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /\p{P}/u.test(String.fromCodePoint(cp));
}

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export class WordPiece {
  readonly #vocab: Map<string, number>;
  readonly #options: WordPieceOptions;
  readonly #unk: number;
  readonly #cls: number;
  readonly #sep: number;
  readonly #pad: number;

  /** From a vocab.txt: one token per line, its id the line number. */
  static fromVocab(text: string, options: WordPieceOptions): WordPiece {
    const vocab = new Map<string, number>();
    text.split(/\r?\n/).forEach((token, i) => {
      if (token !== '' && !vocab.has(token)) vocab.set(token, i);
    });
    return new WordPiece(vocab, options);
  }

  private constructor(vocab: Map<string, number>, options: WordPieceOptions) {
    const id = (t: string) => {
      const v = vocab.get(t);
      if (v === undefined) throw new Error(`the vocabulary has no ${t} token`);
      return v;
    };
    this.#vocab = vocab;
    this.#options = options;
    this.#unk = id('[UNK]');
    this.#cls = id('[CLS]');
    this.#sep = id('[SEP]');
    this.#pad = vocab.get('[PAD]') ?? 0;
  }

  /** The basic tokenizer: control characters dropped, CJK characters and punctuation split off, whitespace split. */
  words(text: string): string[] {
    let t = text;
    if (this.#options.lowerCase) t = t.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    const words: string[] = [];
    let current = '';
    const flush = () => {
      if (current) words.push(current);
      current = '';
    };
    for (const ch of t) {
      const cp = ch.codePointAt(0)!;
      if (cp === 0 || cp === 0xfffd || (/\p{Cc}|\p{Cf}/u.test(ch) && !/\s/u.test(ch))) continue;
      if (/\s/u.test(ch)) flush();
      else if (isPunctuation(cp) || isCjk(cp)) {
        flush();
        words.push(ch);
      } else current += ch;
    }
    flush();
    return words;
  }

  /** A word's sub-word ids, greedy longest match first; a word with no match is [UNK]. */
  pieces(word: string): number[] {
    if (word.length > MAX_WORD_CHARS) return [this.#unk];
    const out: number[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found: number | undefined;
      while (start < end) {
        const piece = (start > 0 ? '##' : '') + word.slice(start, end);
        found = this.#vocab.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [this.#unk];
      out.push(found);
      start = end;
    }
    return out;
  }

  /** The text as windows of at most maxTokens ids each ([CLS] … [SEP]), padded to the longest. */
  encode(text: string, maxWindows: number): Encoded {
    const body = this.#options.maxTokens - 2;
    const tokens = this.words(text).flatMap((w) => this.pieces(w));
    const windows: number[][] = [];
    // Half-overlapping windows, so an instruction cut by one boundary is whole in the next; past
    // maxWindows they overlap less, so the whole text is still read.
    const stride = Math.max(1, Math.floor(body / 2), Math.ceil((tokens.length - body) / Math.max(1, maxWindows - 1)));
    for (let start = 0; ; start += stride) {
      windows.push(tokens.slice(start, start + body));
      if (start + body >= tokens.length) break;
    }
    const width = Math.max(...windows.map((w) => w.length)) + 2;
    const ids = new BigInt64Array(windows.length * width).fill(BigInt(this.#pad));
    const mask = new BigInt64Array(windows.length * width);
    windows.forEach((w, r) => {
      [this.#cls, ...w, this.#sep].forEach((id, c) => {
        ids[r * width + c] = BigInt(id);
        mask[r * width + c] = 1n;
      });
    });
    return { rows: windows.length, width, ids, mask };
  }
}
