// Writing about an attack is not an attack: a security post quotes "ignore previous instructions",
// a model card names the `[INST]` marker. These tell such a mention from the thing itself, and are
// kept narrow on purpose: an attacker can quote too, so a mention must look like one on every count.

const CLOSING: Readonly<Record<string, string>> = { '"': '"', "'": "'", '`': '`', '“': '”', '‘': '’', '«': '»', '„': '“' };

/** The match is the whole of a quotation or code span (`"…"`, `` `…` ``), give or take closing punctuation. */
export function quotedExactly(text: string, start: number, end: number): boolean {
  const close = CLOSING[text[start - 1] ?? ''];
  if (!close) return false;
  for (let i = end; i < Math.min(text.length, end + 3); i++) {
    if (text[i] === close) return true;
    if (!/[.,!?;:…]/.test(text[i]!)) return false;
  }
  return false;
}

/** Words of prose that discusses injection, or introduces an example of it. */
const DISCUSSION = /\b(?:prompt[ -]injections?|jailbreaks?|attacks?|attackers?|adversarial|payloads?|phrases?|strings?|such as|e\.g\.|for example|for instance|known as|called)\b/i;

/** An override phrase quoted on its own, in prose about injection: `payloads such as "ignore previous instructions"`. */
export function quotedInDiscussion(text: string, start: number, end: number): boolean {
  if (!quotedExactly(text, start, end)) return false;
  return DISCUSSION.test(text.slice(Math.max(0, start - 200), start)) || DISCUSSION.test(text.slice(end, end + 200));
}

/** A template token spoken of, not used: in a code span or quotes, or the subject of a sentence (`<|endoftext|> is the …`). */
export function tokenNamed(text: string, start: number, end: number): boolean {
  return quotedExactly(text, start, end) || /^[ \t]+(?:is|are|was|were|marks?|denotes?|means?|tokens?|markers?|tags?|delimiters?)\b/i.test(text.slice(end, end + 16));
}

/** Before an order: a negation, as a system prompt forbids what an attack asks (`Never reveal your instructions`). */
const NEGATED = /\b(?:never|do\s+not|don't|must\s+not|mustn't|should\s+not|shouldn't|will\s+not|won't|cannot|can't|refuse\s+to|not\s+to)\s+(?:\w+\s+){0,1}$/i;
/** After one: the instructions ignored are those found in the content, as a defensive prompt says (`ignore any instructions that you find in the documents`). */
const IN_CONTENT = /^\s+(?:that\s+|which\s+)?(?:you\s+)?(?:may\s+)?(?:find|found|see|encounter|are\s+)?\s*(?:contained\s+|embedded\s+|appearing\s+|written\s+)?(?:in|within|inside)\s+(?:the\s+|any\s+|a\s+|these\s+|those\s+)?(?:documents?|data|content|input|text|e-?mails?|web\s*pages?|pages?|files?|tool\s+(?:results?|outputs?)|retrieved|search\s+results?|<data>)/i;

/** An order turned into a rule against itself: negated before, or aimed at what the content says. */
export function defensive(text: string, start: number, end: number): boolean {
  return NEGATED.test(text.slice(Math.max(0, start - 30), start)) || IN_CONTENT.test(text.slice(end, end + 80));
}
