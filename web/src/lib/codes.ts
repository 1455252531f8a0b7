// Generating unique codes in chunks: one request per chunk to
// POST /api/offers/:id/codes/generate (at most 100,000 a request, app/codes.go), so the
// progress bar moves as each chunk is stored.

export const MAX_CODES_PER_REQUEST = 100_000;
export const MAX_CODES_PER_RUN = 1_000_000;

/**
 * planChunks splits n codes into about ten requests (at least 100 codes and at most 10,000
 * each, so a small batch is one request and a large one moves the bar steadily).
 */
export function planChunks(n: number): number[] {
  if (!Number.isSafeInteger(n) || n <= 0) return [];
  const size = Math.min(10_000, Math.max(100, Math.ceil(n / 10)));
  const chunks: number[] = [];
  for (let left = n; left > 0; left -= size) chunks.push(Math.min(size, left));
  return chunks;
}

export interface CodePattern {
  length: number;
  charset: string;
  prefix: string;
  suffix: string;
}

/** exampleCode shows what a generated code looks like ("VIP-" prefixes are not allowed: letters and digits only). */
export function exampleCode(p: CodePattern): string {
  const sets: Record<string, string> = {
    '': 'ABCDEFGHJKMNPQRSTUVWXYZ23456789',
    default: 'ABCDEFGHJKMNPQRSTUVWXYZ23456789',
    alphanumeric: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
    letters: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
    digits: '0123456789',
  };
  const alphabet = sets[p.charset.toLowerCase()] ?? (p.charset.toUpperCase().replace(/[^A-Z0-9]/g, '') || 'X');
  let random = '';
  for (let i = 0; i < Math.max(0, p.length); i++) random += alphabet[(i * 7 + 3) % alphabet.length];
  return `${p.prefix}${random}${p.suffix}`.toUpperCase();
}
