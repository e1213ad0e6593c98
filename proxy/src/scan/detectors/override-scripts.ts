import { windowed } from './gates.js';
import { quotedInDiscussion } from './mention.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector } from './types.js';

/**
 * "Ignore the previous instructions" in scripts other than Latin — Cyrillic, Greek, Chinese,
 * Japanese, Korean, Arabic — where override.ts's word boundaries and ASCII keywords do not reach.
 * The same shape: a verb of ignoring, something pointing back, and the instructions themselves.
 */
const PATTERNS = [
  String.raw`(?:игнорир\p{L}*|проигнорир\p{L}*|забудь\p{L}*|забудьте|не\s+обращай\p{L}*\s+внимания\s+на)\s+(?:\p{L}+\s+){0,2}?(?:предыдущ|прежн|вс|эт)\p{L}*\s+(?:\p{L}+\s+)?(?:инструкц|указани|правил|команд|директив)\p{L}*`,
  String.raw`(?:ігнор\p{L}*|забудь\p{L}*)\s+(?:\p{L}+\s+){0,2}?(?:попередн|вс)\p{L}*\s+(?:інструкц|вказівк|правил)\p{L}*`,
  String.raw`(?:αγνο|ξέχα|ξεχα)\p{L}*\s+(?:\p{L}+\s+){0,2}?(?:προηγο|όλ|ολ)\p{L}*\s+(?:\p{L}+\s+)?(?:οδηγ|εντολ|κανόν|κανον)\p{L}*`,
  String.raw`(?:忽略|无视|無視|忘记|忘記|忽视|忽視|不要理会|不要理會)(?:掉)?(?:你)?(?:之前|以上|上面|所有|先前|前面|以前|上述|此前)(?:的)?(?:所有)?(?:的)?(?:指令|指示|说明|說明|命令|规则|規則|提示|要求)`,
  String.raw`(?:以前|前|上記|これまで|先ほど|すべて)の(?:指示|命令|ルール|プロンプト|指令)(?:を|は)?(?:すべて)?(?:無視|忘れ)`,
  String.raw`(?:이전|앞의|위의|모든|기존)\s*(?:지시|명령|지침|규칙|프롬프트)\S{0,3}\s*(?:을|를)?\s*(?:모두\s*)?(?:무시|잊)`,
  String.raw`(?:تجاهل|انس|إنس)\s+(?:\p{L}+\s+){0,2}?(?:التعليمات|الأوامر|الإرشادات|القواعد|التوجيهات)`,
];

export function scriptOverrideDetector(): Detector {
  return new RegexDetector(
    'injection-instruction-override-script',
    'injection.override',
    'injection',
    [],
    new RegExp(PATTERNS.join('|'), 'giu'),
    (m) => (quotedInDiscussion(m.input, m.index, m.index + m[0].length) ? null : { start: m.index, end: m.index + m[0].length }),
    windowed(/игнорир|проигнорир|забудь|не\s+обращай|ігнор|αγνο|ξέχα|ξεχα|忽略|无视|無視|忘记|忘記|忽视|忽視|不要理|무시|잊|تجاهل|انس|إنس/iu, 12),
  );
}
