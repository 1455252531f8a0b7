// Money in the admin API is an integer of minor units of the shop's currency (discountfn.Money);
// percentages are decimal numbers with at most two decimals (discountfn.Percent, basis points
// on the server). The UI shows and reads decimal strings and converts them with string
// arithmetic only, so "12.30" is 1230 and never 1229.9999.

/** The largest amount the server accepts: 10^15 minor units (discountfn maxMoney). */
export const MAX_MONEY = 1_000_000_000_000_000;

/** The number of decimals of a currency's minor unit (ISO 4217), as discountfn.CurrencyExponent. */
export function currencyExponent(code: string): number {
  switch (code.toUpperCase()) {
    case 'BIF':
    case 'CLP':
    case 'DJF':
    case 'GNF':
    case 'ISK':
    case 'JPY':
    case 'KMF':
    case 'KRW':
    case 'PYG':
    case 'RWF':
    case 'UGX':
    case 'UYI':
    case 'VND':
    case 'VUV':
    case 'XAF':
    case 'XOF':
    case 'XPF':
      return 0;
    case 'BHD':
    case 'IQD':
    case 'JOD':
    case 'KWD':
    case 'LYD':
    case 'OMR':
    case 'TND':
      return 3;
    default:
      return 2;
  }
}

export type Parsed<T> = {ok: true; value: T} | {ok: false; error: string};

/**
 * parseMoney reads a decimal amount typed by the merchant ("12.30", "12.3", "1,234.50", "12")
 * into minor units. Empty text is null (the field is not set). More decimals than the currency
 * has is an error, never a rounding.
 */
export function parseMoney(text: string, exponent: number): Parsed<number | null> {
  let s = text.trim().replace(/[\s\u00a0]/g, '');
  if (s === '') return {ok: true, value: null};
  // Thousands separators: "1,234.50". A comma followed by other than three digits is a typo
  // or a decimal comma, which we do not guess at.
  if (s.includes(',')) {
    if (!/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(s)) {
      return {ok: false, error: example(exponent)};
    }
    s = s.replace(/,/g, '');
  }
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) {
    return {ok: false, error: example(exponent)};
  }
  const whole = m[1].replace(/^0+(?=\d)/, '') || '0';
  const frac = m[2] ?? '';
  if (frac.length > exponent) {
    // Trailing zeros beyond the minor unit are harmless: "12.300" is 12.30.
    if (!/^0*$/.test(frac.slice(exponent))) {
      return {
        ok: false,
        error:
          exponent === 0
            ? 'Enter a whole amount: this currency has no decimals'
            : `Enter at most ${exponent} decimals`,
      };
    }
  }
  const digits = whole + frac.slice(0, exponent).padEnd(exponent, '0');
  const trimmed = digits.replace(/^0+(?=\d)/, '');
  if (trimmed.length > 16 || Number(trimmed) > MAX_MONEY) {
    return {ok: false, error: 'The amount is too large'};
  }
  return {ok: true, value: Number(trimmed)};
}

function example(exponent: number): string {
  return exponent === 0 ? 'Enter an amount like 1200' : `Enter an amount like 12.${'3'.padEnd(exponent, '0')}`;
}

/** formatMinor writes minor units as a decimal string with exactly exponent decimals: 1230 → "12.30". */
export function formatMinor(minor: number, exponent: number): string {
  if (!Number.isSafeInteger(minor)) return String(minor);
  const neg = minor < 0;
  let digits = String(Math.abs(minor));
  if (exponent > 0) {
    digits = digits.padStart(exponent + 1, '0');
    digits = digits.slice(0, digits.length - exponent) + '.' + digits.slice(digits.length - exponent);
  }
  return neg ? '-' + digits : digits;
}

/** moneyInput is the text of a money field for a stored amount: "" for unset (0 or absent). */
export function moneyInput(minor: number | undefined | null, exponent: number): string {
  return minor ? formatMinor(minor, exponent) : '';
}

/**
 * formatMoney shows an amount for reading: "$12.30" (Intl, fed the exact decimal string so no
 * float is involved), falling back to "12.30 USD".
 */
export function formatMoney(minor: number, currency: string, locale?: string): string {
  const exponent = currencyExponent(currency);
  const decimal = formatMinor(minor, exponent);
  try {
    const nf = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    });
    // Intl.NumberFormat formats decimal strings exactly (ES2023); the cast is for older typings.
    return nf.format(decimal as unknown as number);
  } catch {
    return `${decimal} ${currency}`;
  }
}

/** formatEngineAmount is the engine's own wording of an amount in messages: "5.00 USD". */
export function formatEngineAmount(minor: number, currency: string): string {
  return `${formatMinor(minor, currencyExponent(currency))} ${currency}`;
}

/**
 * parsePercent reads a percentage with at most two decimals ("15", "12.5", "12.50 %") as the
 * number sent in JSON. Its decimal text has at most two decimals and at most three whole
 * digits, so the number is the exact decimal the merchant typed (a double holds 15
 * significant digits exactly) and JSON writes it back digit for digit.
 */
export function parsePercent(text: string): Parsed<number | null> {
  const s = text.trim().replace(/\s*%$/, '');
  if (s === '') return {ok: true, value: null};
  const m = /^(\d{1,3})(?:\.(\d*))?$/.exec(s);
  if (!m) return {ok: false, error: 'Enter a percentage like 15 or 12.5'};
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > 2) return {ok: false, error: 'Enter at most 2 decimals'};
  const text2 = frac ? `${Number(m[1])}.${frac}` : String(Number(m[1]));
  const value = Number(text2);
  if (value <= 0 || value > 100) return {ok: false, error: 'Enter more than 0 and at most 100'};
  return {ok: true, value};
}

/** percentInput is the text of a percentage field: "" for unset. */
export function percentInput(p: number | undefined | null): string {
  return p ? String(p) : '';
}

/** parseCount reads a whole number; empty is null. */
export function parseCount(text: string, {min = 0, max = 1_000_000}: {min?: number; max?: number} = {}): Parsed<number | null> {
  const s = text.trim().replace(/,/g, '');
  if (s === '') return {ok: true, value: null};
  if (!/^\d+$/.test(s)) return {ok: false, error: 'Enter a whole number'};
  const n = Number(s);
  if (n < min) return {ok: false, error: `Enter at least ${min}`};
  if (n > max) return {ok: false, error: `Enter at most ${max.toLocaleString('en-US')}`};
  return {ok: true, value: n};
}
