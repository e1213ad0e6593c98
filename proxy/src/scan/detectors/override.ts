import { quotedInDiscussion } from './mention.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector } from './types.js';

// "Ignore all previous instructions" in the languages attacks arrive in: English, German, French,
// Spanish. Verbs, then a word that points at what came before, then what it was.
const VERB = 'ignore|disregard|forget|override|bypass|skip|ignorier(?:e|en|t)?|vergiss|vergessen|missachte[nt]?|ignorez|oublie[zr]?|ignora|olvida|omite';
const SCOPE =
  'previous|prior|above|earlier|preceding|all|any|your|the|these|those|system|alle[nrs]?|vorherigen|vorigen|bisherigen|obigen|früheren|deine|ihre|sämtliche|toutes|tous|les|vos|tes|précédentes?|todas|todos|las|los|tus|sus|anteriores|previas';
const NOUN =
  'instructions?|prompts?|rules|directions|guidelines|guardrails|policies|context|anweisungen|instruktionen|befehle|regeln|vorgaben|richtlinien|consignes|règles|instrucciones|reglas|indicaciones|directrices';
const EARLIER = 'previous|prior|earlier|preceding|above|original|existing|other|system|developer';

export function overrideDetector(): Detector {
  return new RegexDetector(
    'injection-instruction-override',
    'injection.override',
    'injection',
    ['ignor', 'disregard', 'forget', 'override', 'overrule', 'supersede', 'precedence', 'replaces', 'cancels', 'bypass', 'instructions', 'you are now', 'from now on', 'vergiss', 'vergessen', 'missacht', 'oubli', 'olvid', 'omite', 'your real', 'your actual', 'your true'],
    new RegExp(
      [
        String.raw`\b(?:${VERB})\b[^\n]{0,40}?\b(?:${SCOPE})\b[^\n]{0,30}?\b(?:${NOUN})\b`,
        // "Forget everything you were told", "ignore everything above."
        String.raw`\b(?:forget|ignore|disregard)\s+(?:everything|all|anything|whatever)\s+(?:(?:that\s+)?you(?:'ve|\s+have|\s+were|\s+had)?(?:\s+been)?\s+(?:told|given|instructed|programmed)\b|(?:above|before|so\s+far|until\s+now|previously)(?=\s*(?:[.!;:,]|$)))`,
        // "Ignore the above and say …"
        String.raw`\b(?:ignore|disregard)\s+(?:all\s+of\s+)?the\s+above\s+and\b`,
        // "These instructions supersede all earlier ones", "the following text overrides any previous system instructions"
        String.raw`\b(?:instructions?|text|message|prompt|note)\s+(?:supersedes?|overrides?|replaces?|overrules?|takes?\s+precedence\s+over|cancels?)\s+(?:all\s+|any\s+|every\s+)?(?:of\s+)?(?:the\s+|your\s+)?(?:${EARLIER})\b[^\n.]{0,40}?\b(?:instructions?|prompts?|rules|guidelines|directives?|ones|directions)\b`,
        String.raw`\b(?:system|admin|developer)[ _-]?override\b`,
        String.raw`\bnew (?:system )?instructions?\s*:`,
        String.raw`\byour\s+(?:real|actual|true)\s+(?:task|instructions?|goal|objective|purpose|job)\s+(?:is|are)\b`,
        String.raw`\byou are now (?:a |an |in |the )?(?:dan|unrestricted|jailbroken|developer mode|evil|no longer)\b`,
        String.raw`\bfrom now on,? (?:you|the assistant) (?:will|must|shall|are to)\b`,
      ].join('|'),
      'gi',
    ),
    // Security writing quotes the phrase it warns about; the phrase alone, in quotes, beside such words, is a mention.
    (m) => (quotedInDiscussion(m.input, m.index, m.index + m[0].length) ? null : { start: m.index, end: m.index + m[0].length }),
  );
}
