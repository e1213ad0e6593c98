import { addressedToModelDetector, promptExtractionDetector, promptExtractionShapesDetectors, secretRequestDetector, taskDirectiveDetector, timedDirectiveDetectors } from './directives.js';
import { EncodedInjectionDetector } from './encoded-injection.js';
import { exfiltrationDetector } from './exfiltration.js';
import { jailbreakDetectors } from './jailbreaks.js';
import { ObfuscatedInjectionDetector } from './obfuscated-injection.js';
import { overrideDetector } from './override.js';
import { scriptOverrideDetector } from './override-scripts.js';
import { RegexDetector } from './regex-detector.js';
import { RoleSpoofingDetector } from './spoofing.js';
import { toolPoisoningDetectors } from './tool-poisoning.js';
import type { Detector } from './types.js';

/**
 * Prompt injection in content the agent did not write (tool results, retrieved documents,
 * MCP results). Each rule names one technique; bounded repeats keep every pattern linear.
 */
export function injectionDetectors(): Detector[] {
  const orders = [overrideDetector(), scriptOverrideDetector(), promptExtractionDetector(), secretRequestDetector(), taskDirectiveDetector(), addressedToModelDetector(), ...promptExtractionShapesDetectors(), ...timedDirectiveDetectors(), ...jailbreakDetectors()];
  return [
    ...orders,
    new EncodedInjectionDetector(orders),
    new EncodedInjectionDetector(orders, true),
    new ObfuscatedInjectionDetector('encodings', orders),
    new ObfuscatedInjectionDetector('letters', orders),
    new ObfuscatedInjectionDetector('spelling', orders),
    new RoleSpoofingDetector(),
    new RegexDetector(
      'injection-hidden-unicode',
      'injection.hidden_unicode',
      'injection',
      [],
      // Tag characters (invisible ASCII), bidi overrides and isolates, runs of zero-width characters,
      // variation selectors between alphabetic letters (emoji take them after a symbol, and
      // Han ideographs their glyph variants; Latin, Greek and Cyrillic words never do:
      // "i\uFE01gnore" reads as "ignore" to a person and not to a filter), and runs of them (a
      // character takes one; a run after an emoji is bytes smuggled, one selector per byte), and runs of the invisible
      // mathematical operators (U+2061–2064: a formula takes one between two symbols; a run is bits smuggled).
      /[\u{E0000}-\u{E007F}]+|[\u202A-\u202E\u2066-\u2069]|[\u200B-\u200D\u2060\uFEFF]{3,}|(?<=[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]+(?=[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])|[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]{4,}|[\u2061-\u2064]{4,}/gu,
      (m) => (isFlagTagSequence(m) ? null : { start: m.index, end: m.index + m[0].length }),
      /[\u{E0000}-\u{E007F}\u202A-\u202E\u2066-\u2069\u200B-\u200D\u2060-\u2064\uFEFF\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/u,
    ),
    exfiltrationDetector(),
    ...toolPoisoningDetectors(),
  ];
}

/**
 * The one visible use of tag characters: a subdivision flag (🏴 England, Scotland, Wales) is
 * U+1F3F4, a region and subdivision code in tag letters and digits, then CANCEL TAG (U+E007F).
 */
function isFlagTagSequence(m: RegExpExecArray): boolean {
  return m.input.codePointAt(m.index - 2) === 0x1f3f4 && /^(?:[\u{E0061}-\u{E007A}]{2}|[\u{E0030}-\u{E0039}]{3})[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]{1,4}\u{E007F}$/u.test(m[0]);
}
