import { RegexDetector } from './regex-detector.js';
import type { Detector } from './types.js';

/**
 * Prompt injection in content the agent did not write (tool results, retrieved documents,
 * MCP results). Each rule names one technique; bounded repeats keep every pattern linear.
 */
export function injectionDetectors(): Detector[] {
  return [
    new RegexDetector(
      'injection-instruction-override',
      'injection.override',
      'injection',
      ['ignore', 'disregard', 'forget', 'override', 'bypass', 'instructions', 'you are now', 'from now on'],
      new RegExp(
        [
          String.raw`\b(?:ignore|disregard|forget|override|bypass|skip)\b[^\n]{0,40}?\b(?:previous|prior|above|earlier|preceding|all|any|your|the|these|those|system)\b[^\n]{0,30}?\b(?:instructions?|prompts?|rules|directions|guidelines|guardrails|policies|context)\b`,
          String.raw`\b(?:system|admin|developer)[ _-]?override\b`,
          String.raw`\bnew (?:system )?instructions?\s*:`,
          String.raw`\byou are now (?:a |an |in |the )?(?:dan|unrestricted|jailbroken|developer mode|evil|no longer)\b`,
          String.raw`\bfrom now on,? (?:you|the assistant) (?:will|must|shall|are to)\b`,
        ].join('|'),
        'gi',
      ),
    ),
    new RegexDetector(
      'injection-role-spoofing',
      'injection.spoofing',
      'injection',
      ['<|', '[inst]', '[/inst]', '<<sys>>', '<</sys>>', 'system', 'assistant', 'human', '</', '<tool'],
      new RegExp(
        [
          String.raw`<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\|>`,
          String.raw`\[\/?INST\]`,
          String.raw`<<\/?SYS>>`,
          String.raw`<\/?(?:system|tool_result|function_results|tool_response|instructions|assistant)>`,
          // A fake turn: a role name at the start of a line, followed by an instruction.
          String.raw`(?:^|\n)[ \t]*(?:#{1,6}[ \t]*)?(?:system|assistant|human|developer)[ \t]*(?:message|prompt)?[ \t]*:[^\n]{0,80}?\b(?:you (?:must|will|should|are)|ignore|always|never|do not|don't|instructions?)\b`,
        ].join('|'),
        'gi',
      ),
    ),
    new RegexDetector(
      'injection-hidden-unicode',
      'injection.hidden_unicode',
      'injection',
      [],
      // Tag characters (invisible ASCII), bidi overrides and isolates, runs of zero-width characters.
      /[\u{E0000}-\u{E007F}]+|[\u202A-\u202E\u2066-\u2069]|[\u200B-\u200D\u2060\uFEFF]{3,}/gu,
      undefined,
      /[\u{E0000}-\u{E007F}\u202A-\u202E\u2066-\u2069\u200B-\u200D\u2060\uFEFF]/u,
    ),
    new RegexDetector(
      'injection-exfiltration-link',
      'injection.exfil_link',
      'injection',
      ['http'],
      new RegExp(
        [
          // A markdown image (fetched by the client without a click) whose URL carries data.
          String.raw`!\[[^\]\n]{0,100}\]\(\s*https?:\/\/[^\s)]{1,200}?[?&][^\s)=&]{1,40}=[^\s)&]{8,}`,
          // A URL with a placeholder for the conversation, a secret or user data.
          String.raw`https?:\/\/[^\s"'<>]{1,200}?(?:\{[A-Za-z_ .]{2,40}\}|%7B[A-Za-z_]{2,40}%7D|\[(?:DATA|SECRET|CONVERSATION|HISTORY|PASSWORD|TOKEN|API[_ ]KEY)[^\]]{0,20}\])`,
          // An instruction to send sensitive material to a URL.
          String.raw`\b(?:send|post|forward|exfiltrate|upload|leak|transmit|append)\b[^\n]{0,80}?\b(?:passwords?|secrets?|tokens?|api keys?|credentials|conversation|chat history|user data|personal data|system prompt)\b[^\n]{0,80}?https?:\/\/`,
        ].join('|'),
        'gi',
      ),
    ),
  ];
}
