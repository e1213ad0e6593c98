// Credentials that vendors publish in their documentation. They appear in tutorials, READMEs and
// questions about them, and unlock nothing, so a match on one is not a leak (as gitleaks already
// treats AWS's `AKIA…EXAMPLE`). Kept to what is printed in the vendors' own docs.

const PUBLISHED: ReadonlySet<string> = new Set([
  // Stripe API reference and quickstarts (test mode of Stripe's own demo account).
  'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
  'pk_test_TYooMQauvdEDq54NiTphI7jx',
  'sk_test_BQokikJOvBiI2HlWgH4olfQ2',
  'pk_test_6pRNASCoBOKtIshFeQd4XMUh',
  // HTTP Basic credentials of RFC 7617 ("Aladdin:open sesame") and MDN's Authorization page ("aladdin:opensesame").
  'QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
  'YWxhZGRpbjpvcGVuc2VzYW1l',
  // The same example as Microsoft's HTTP documentation writes it ("Aladdin:OpenSesame").
  'QWxhZGRpbjpPcGVuU2VzYW1l',
  // Oracle's sample schema account, in every Oracle tutorial.
  'scott/tiger',
  // Telegram Bot API docs, and the token BotFather's documentation shows it handing out.
  '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11',
  '110201543:AAHdqTcvCH1vGWJxfSe1ofSAs0K5PALDsaw',
  // The Azure Storage emulator's (Azurite's) well-known account key, the same in every installation and in Microsoft's docs.
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
]);

/** jwt.io's debugger opens on a token for `{"sub": "1234567890", "name": "John Doe", …}`; every tutorial copies it. */
function isJwtIoExample(token: string): boolean {
  const payload = token.split('.')[1];
  if (!payload || !payload.startsWith('ey')) return false;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    return claims.sub === '1234567890' && claims.name === 'John Doe';
  } catch {
    return false;
  }
}

/** True when the secret a rule found is, holds or is part of a credential its vendor published as an example. */
export function isDocumentedExample(secret: string): boolean {
  for (const example of PUBLISHED) if (secret.includes(example) || (secret.length >= 12 && example.includes(secret))) return true;
  return secret.startsWith('ey') && isJwtIoExample(secret);
}
