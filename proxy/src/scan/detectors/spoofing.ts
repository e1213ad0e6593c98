import { tokenNamed } from './mention.js';
import { BANNER, BANNER_KEYWORDS, PUPPETRY_KEYWORDS } from './override.js';
import type { Detector, Span } from './types.js';

/**
 * Role spoofing: content that pretends to be a turn of the conversation, so the model reads the
 * attacker's words as the system's, the user's or its own. Two kinds:
 * - chat-template tokens and wrapper tags (`<|im_start|>`, `[INST]`, `<start_of_turn>`,
 *   `</tool_result>`, `<admin_instructions>`), unless they are being named in prose;
 * - role headers at the start of a line (`System:`, `### System:`, `**System:**`,
 *   `[SYSTEM MESSAGE FROM …]:`) that either carry an instruction (on their line or the next),
 *   or take turns with another role (`Human:` … `Assistant:`), as a transcript does.
 * A lone `System: Ubuntu 22.04` field, `### System Requirements` or a `User:`/`Agent:` chat export stays quiet.
 */

const TOKEN = new RegExp(
  [
    // Every vendor's special tokens have this shape: <|im_start|>, <|eot_id|>, <|start_header_id|>, <|user|>, <|END_OF_TURN_TOKEN|>.
    String.raw`<\|[A-Za-z][A-Za-z0-9_]{1,31}\|>`,
    String.raw`<(?:start|end)_of_turn>`,
    String.raw`\[\/?INST\]`,
    String.raw`<<\/?SYS>>`,
    // Prompt tags are lower case; `Promise<Assistant>` is a TypeScript generic.
    String.raw`<\/?(?:system|assistant|instructions|tool_result|tool_response|tool_use|function_results|function_calls)>`,
    // The tag tool-poisoning payloads hide their orders in: <IMPORTANT> … </IMPORTANT>, any case.
    String.raw`<\/?[Ii][Mm][Pp][Oo][Rr][Tt][Aa][Nn][Tt]>`,
    // And the tags they hide them in besides: <HIDDEN>/<hidden>, <GLOBAL_OVERRIDE>, <system_override> (a configuration's
    // <CONFIG_OVERRIDE> or a component's <Hidden> is not one).
    String.raw`<\/?(?:HIDDEN|hidden|HIDDEN_INSTRUCTIONS?|hidden_instructions?|(?:SYSTEM|GLOBAL|ADMIN|ROOT|SECURITY|DEVELOPER|PRIORITY|system|global|admin|root|security|developer|priority)_(?:OVERRIDE|override))>`,
    // A role or authority and what it claims to carry: <system-reminder>, <admin_instructions>, <user_message>.
    String.raw`<\/?(?:system|admin|administrator|developer|assistant|operator|user|human|root)[_-](?:instructions?|messages?|prompt|reminder|notes?|override|directives?|update|commands?|policy|context|turn)>`,
    // Closing the wrapper a tool result arrives in, to write outside it.
    String.raw`<\/(?:search|tool|function|retrieval|web|document)[_-]?(?:results?|responses?|outputs?|contents?)>`,
  ].join('|'),
  'g',
);

/**
 * Fake boundaries and authority notes: a section end or start that claims to close the untrusted
 * part or open new instructions (`END UNTRUSTED INPUT`, `---- BEGIN INSTRUCTIONS ----`,
 * `%%% end out of date instructions %%%`, `##Begin New Instructions##`, `BEGIN REPROGRAMMING`,
 * `<end of session>`, `[END OF CONVERSATION]`, `-- CORE INSTRUCTION`), and bracketed notes in the voice of the system or an
 * administrator (`[ADMIN REQUEST::`, `[System note:`, `[SYSTEM ANNOTATION:`, `[system](#context)`).
 * `-----BEGIN CERTIFICATE-----` and `BEGIN TRANSACTION` name other things.
 */
const MARKER = new RegExp(
  [
    String.raw`(?:^|\n)[ \t]*(?:[-=#%*~<>\[]{2,}[ \t]*)?(?:begin|end|start|stop)[ \t]+(?:of[ \t]+)?(?:(?:new|out[ \t]+of[ \t]+date|old|untrusted|trusted|system|admin|user|the|previous|real|original)[ \t]+){0,3}(?:instructions?|input|prompt|reprogramming|context|session|system[ \t]+message)\b[ \t]*(?:[-=#%*~<>\]]{2,}|(?=\n|$))`,
    // Sections benchmarks invent (`=== END USER AMBIGUITY ===`), set off as banners (a simulation's log says "=== End simulation ===").
    String.raw`(?:^|\n)[ \t]*[-=#%*~<>\[]{2,}[ \t]*(?:begin|end|start|stop)[ \t]+(?:of[ \t]+)?(?:the[ \t]+)?(?:user[ \t]+)?ambiguity[ \t]*[-=#%*~<>\]]{2,}`,
    String.raw`<end[ _]of[ _](?:session|context|input|prompt)>`,
    // A section end or a new prompt in brackets, braces or a code fence: `[END OF CONVERSATION]`, ```` ```END OF PROMPT``` ````,
    // `[NEW SYSTEM PROMPT]`, `{END_OF_INSTRUCTIONS}` (a dialog's `[New prompt]` button and a manual's `[end of input]` section are not).
    String.raw`(?:\[|\(|\{|\x60{3}|<|={3,})[ \t]*(?:end[ \t_-]+of[ \t_-]+(?:the[ \t_-]+)?(?:prompt|conversation|chat|instructions|system[ \t_-]+prompt)|(?:new|updated|real)[ \t_-]+(?:system[ \t_-]+(?:prompt|message|instructions)|instructions))[ \t]*(?:\]|\)|\}|\x60{3}|>|={3,})`,
    String.raw`(?:^|\n)[ \t]*-{2,}[ \t]*[A-Z][A-Z ,]{0,40}\bINSTRUCTIONS?\b[ \t]*(?=\n|$)`,
    String.raw`\[(?:system|admin|administrator|developer|operator|root)(?:[ _-](?:note|annotation|request|message|override|instructions?|prompt|update|command|notice))?[ \t]*::?`,
    String.raw`\[system\](?:\(#\w{1,20}\)|\[system\])`,
    // A role set off as a heading's bracketed name: `###(system_message)`, `## (admin instructions)` (a changelog's `## (admin)` tags a change).
    String.raw`#{2,6}[ \t]*\((?:system(?:[_ ](?:message|prompt|instructions?|note|override))?|(?:admin|developer|operator)[_ ](?:message|prompt|instructions?|note|override))\)`,
    // Directives dressed as the system's: "[ROLE DIRECTIVE]:", "[SYSTEM DIRECTIVE]:", "IMPORTANT SYSTEM NOTE:", "INSTRUCTION OVERRIDE:", "ACT AS:".
    String.raw`\[(?:ROLE|SYSTEM|CONFIGURATION|ADMIN|SECURITY|PROCESSING)\s+DIRECTIVE\]`,
    String.raw`\b(?:IMPORTANT\s+)?SYSTEM\s+(?:NOTE|DIRECTIVE|OVERRIDE|INSTRUCTIONS?)\s*:`,
    String.raw`\bINSTRUCTION\s+OVERRIDE\b`,
    String.raw`(?:^|\n)[ \t]*ACT\s+AS\s*:`,
    String.raw`<\/?SYSTEM>`,
    // Headers that open new orders, set off as a section is: `*** NEW IMPORTANT INSTRUCTIONS ***`, `**URGENT NEW TASK**`.
    BANNER,
    // A configuration the model is told it runs under (the "policy puppetry" shape): allowed and blocked modes, responses, strings.
    String.raw`<\/?interaction-config>|\binteraction-mode=|\bblocked[ _-]?(?:strings|responses|modes)["']?[ \t]*[:=]|\ballow(?:ed)?[ _-]?(?:refusals|apologies|disclaimers?)["']?[ \t]*[:=]`,
  ].join('|'),
  'gi',
);

/**
 * In capitals only, where case is the signal: a mode the model is told it is in, set off as a tag or a
 * banner (`<SYSTEM MODE>`, `***DEVELOPER MODE HAS BEEN ACTIVATED***`, `[GOD MODE]`; not `[TEST MODE]`, which payment logs print), and an override
 * in the voice of the system (`DEVELOPER TRAINING DATA OVERRIDE`). A plain `DEVELOPER MODE ENABLED:`
 * is a claim in prose, left to the override detectors.
 */
const CAPS_MARKER = new RegExp(
  [
    String.raw`(?:<|\[|(?<!\*)\*{2,3})[ \t]*(?:SYSTEM|GOD|DEVELOPER|ADMIN|ROOT|SUDO|OVERRIDE|JAILBREAK|UNRESTRICTED|SECURITY OVERRIDE|DAN)[ _]MODE\b`,
    String.raw`\b(?:DEVELOPER|SYSTEM|ADMIN|SECURITY)(?: TRAINING DATA)? OVERRIDE\b`,
  ].join('|'),
  'g',
);

/** `SYSTEM:` inside a line, in capitals, after other text: a role claimed mid-record (`Registrant: … SYSTEM: Ignore …`). */
const INLINE_ROLE = /(?<=\S[ \t]{1,4})(?:SYSTEM|ADMIN|ASSISTANT|DEVELOPER)(?:[ \t]+(?:NOTE|MESSAGE|OVERRIDE|INSTRUCTION))?:[ \t]+([^\n]{1,200})/g;

const ROLE = 'system|assistant|human|user|developer|model|instruction|response|ai|gpt';
const QUALIFIER = String.raw`(?:[ \t]+(?:message|prompt|note|notice|instructions?|update|override|alert|reply|answer|task))?(?:[ \t]+from[ \t]+[A-Za-z][\w .-]{0,30}?)?`;
/**
 * A role header at a line start, plain, markdown heading, bold (or set off by three stars or
 * quotes: `***AI Reply***:`, `'''user task''':`) or bracketed, and the rest of its line (up to 200
 * characters): group 1 the decoration, 2 the role, 3 the rest.
 */
const HEADER = new RegExp(
  String.raw`(?:^|\n)[ \t]{0,8}(#{1,6}[ \t]{0,4}|\*{2,3}|__|'''|\[)?(${ROLE})${QUALIFIER}[ \t]{0,4}(?:(?:\*{2,3}|__|''')[ \t]{0,4}:|:(?:[ \t]{0,4}(?:\*\*|__))?|\])([^\n]{0,200})`,
  'gi',
);

/** What a turn says when it is giving orders or claiming authority. */
const INSTRUCTION =
  /\b(?:you (?:must|will|should|shall|may|can|are|now)|(?:assistant|model|ai|replies|responses|answers) (?:must|will|should|shall|may|can|now)|ignore|disregard|always|never|do not|don't|instructions?|comply|obey|authori[sz]ed|verified|permitted|allowed|developer mode|no longer|from now on|may now|polic(?:y|ies)|restrictions?|unrestricted|override|reveal|focus\s+(?:only|exclusively)|(?:please\s+)?(?:repeat|print|say|output)\s+(?:the\s+following|this|after\s+me|only))\b/i;

/** Roles that speak in turns; a transcript of two of them is a conversation written into content. */
const TURN_PAIRS: readonly (readonly [string, string])[] = [
  ['human', 'assistant'],
  ['user', 'assistant'],
  ['user', 'model'],
  ['system', 'assistant'],
];
const HEADING_PAIRS: readonly (readonly [string, string])[] = [
  ['system', 'user'],
  ['instruction', 'response'],
];
/**
 * The model's turn named `AI` or `GPT` takes turns only set off by three stars, three quotes or a
 * heading (`***AI Reply***:`, `'''user task''':`): plain `Human:` … `AI:` is how a few-shot prompt is
 * written, bold `**AI:**` how a glossary is.
 */
const SET_OFF_PAIRS: readonly (readonly [string, string])[] = [
  ['human', 'ai'],
  ['user', 'ai'],
  ['human', 'gpt'],
  ['user', 'gpt'],
];

interface Header extends Span {
  role: string;
  decorated: boolean;
  /** The rest of the header's line (at most 200 characters). */
  rest: string;
}

/** `SYSTEM: "system",` in an enum, `system: 'You are…'` in a config: a field of code or data, not a turn. */
const CODE_LINE = /^[ \t]*["'`{[(]|[,;{([][ \t]*$/;
/** One token after the colon (`gpt-3.5-turbo-instruct`, `llama3:8b`): a setting's value. */
const CONFIG_VALUE = /^[ \t]*["']?[\w./:@-]+["']?[ \t]*$/;
const GIVES_ORDERS = new Set(['system', 'assistant', 'human', 'developer', 'user']);

export class RoleSpoofingDetector implements Detector {
  readonly id = 'injection-role-spoofing';
  readonly label = 'injection.spoofing';
  readonly family = 'injection' as const;
  readonly keywords = [...BANNER_KEYWORDS, ...PUPPETRY_KEYWORDS, 'system mode', 'god mode', 'developer mode', 'admin mode', 'root mode', 'sudo mode', 'maintenance mode', 'override mode', 'jailbreak mode', 'unrestricted mode', 'dan mode', 'test mode', 'system_mode', 'god_mode', 'developer_mode', 'admin_mode', 'root_mode', 'sudo_mode', 'maintenance_mode', 'override_mode', 'jailbreak_mode', 'unrestricted_mode', 'dan_mode', 'test_mode', 'directive', 'act as', 'override', '<important>', '</important>', '<hidden', '</hidden', 'instruction', 'input', 'prompt', 'reprogramming', 'session', 'context', 'conversation', 'end of chat', 'end_of', 'end-of', 'ambiguity', '[admin', '[root', '[operator', '<|', '[inst]', '[/inst]', '<<sys>>', '<</sys>>', '_of_turn>', 'system', 'assistant', 'human', 'developer', 'user:', 'model:', 'instruction:', 'response:', 'ai:', 'gpt:', "''':", '***:', '(system', '(admin', '(developer', '(operator', ' reply:', ' answer:', ' task:', '</', '<tool', '<admin', '<user', '<root', '<operator'];

  find(text: string): Span[] {
    const spans: Span[] = [];
    TOKEN.lastIndex = 0;
    for (let m = TOKEN.exec(text); m; m = TOKEN.exec(text)) {
      const end = m.index + m[0].length;
      if (!tokenNamed(text, m.index, end)) spans.push({ start: m.index, end });
    }
    MARKER.lastIndex = 0;
    for (let m = MARKER.exec(text); m; m = MARKER.exec(text)) {
      const start = m.index + (text.charCodeAt(m.index) === 10 ? 1 : 0);
      const end = m.index + m[0].length;
      if (!tokenNamed(text, start, end)) spans.push({ start, end });
    }
    CAPS_MARKER.lastIndex = 0;
    for (let m = CAPS_MARKER.exec(text); m; m = CAPS_MARKER.exec(text)) {
      const end = m.index + m[0].length;
      if (!tokenNamed(text, m.index, end)) spans.push({ start: m.index, end });
    }
    INLINE_ROLE.lastIndex = 0;
    for (let m = INLINE_ROLE.exec(text); m; m = INLINE_ROLE.exec(text)) {
      if (INSTRUCTION.test(m[1]!)) spans.push({ start: m.index, end: m.index + m[0].length - m[1]!.length });
    }
    return spans.concat(this.#turns(text)).sort((a, b) => a.start - b.start);
  }

  #turns(text: string): Span[] {
    const headers: Header[] = [];
    const roles = new Set<string>();
    const decoratedRoles = new Set<string>();
    const setOffRoles = new Set<string>();
    HEADER.lastIndex = 0;
    for (let m = HEADER.exec(text); m; m = HEADER.exec(text)) {
      const rest = m[3]!;
      if (CODE_LINE.test(rest)) continue;
      // `model: gpt-4o` in a configuration is a key and its value, not a turn of the model.
      if (m[2]!.toLowerCase() === 'model' && CONFIG_VALUE.test(rest)) continue;
      const role = m[2]!.toLowerCase();
      const decorated = m[1] !== undefined;
      headers.push({ start: m.index + (text.charCodeAt(m.index) === 10 ? 1 : 0), end: m.index + m[0].length - rest.length, role, decorated, rest });
      roles.add(role);
      if (decorated) decoratedRoles.add(role);
      if (decorated && /^(?:\*{3}|'''|#)/.test(m[1]!)) setOffRoles.add(role);
    }
    // Roles taking turns with another: `Human:` … `Assistant:`; `### System:` … `### User:` and
    // `### Instruction:` … `### Response:` (Alpaca) only as headings, as plain ones are form fields.
    const inTurns = new Set<string>();
    for (const [a, b] of TURN_PAIRS) if (roles.has(a) && roles.has(b)) inTurns.add(a).add(b);
    for (const [a, b] of HEADING_PAIRS) if (decoratedRoles.has(a) && decoratedRoles.has(b)) inTurns.add(a).add(b);
    for (const [a, b] of SET_OFF_PAIRS) if (setOffRoles.has(a) && setOffRoles.has(b)) inTurns.add(a).add(b);
    return headers.filter((h) => inTurns.has(h.role) || (GIVES_ORDERS.has(h.role) && INSTRUCTION.test(turnContent(text, h))));
  }
}

/** What a header introduces: the rest of its line, or when that is empty the next line with text. */
function turnContent(text: string, h: Header): string {
  if (h.rest.trim() !== '') return h.rest;
  const next = /\n*[ \t]*([^\n]{1,200})/.exec(text.slice(h.end + 1, h.end + 400));
  return next ? next[1]! : '';
}
