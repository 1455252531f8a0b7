import {describe, expect, it} from 'vitest';

import {currencyExponent, formatEngineAmount, formatMinor, formatMoney, parseCount, parseMoney, parsePercent} from './money';

describe('parseMoney', () => {
  const ok = (text: string, exp: number, want: number | null) =>
    it(`reads ${JSON.stringify(text)} (exponent ${exp}) as ${want}`, () => {
      expect(parseMoney(text, exp)).toEqual({ok: true, value: want});
    });
  ok('12.30', 2, 1230);
  ok('12.3', 2, 1230);
  ok('12', 2, 1200);
  ok('0.07', 2, 7);
  ok('0.1', 2, 10);
  ok('.5', 2, 50);
  ok('5.', 2, 500);
  ok('  19.99 ', 2, 1999);
  ok('1,234.50', 2, 123450);
  ok('1,234,567', 2, 123456700);
  ok('12.300', 2, 1230);
  ok('007.10', 2, 710);
  ok('1200', 0, 1200);
  ok('12.345', 3, 12345);
  ok('', 2, null);
  ok('   ', 2, null);
  // The classic float trap: 1.15 * 100 is 114.99999999999999.
  ok('1.15', 2, 115);
  ok('4.35', 2, 435);
  ok('10000000000000', 2, 1_000_000_000_000_000);

  const bad = (text: string, exp: number) =>
    it(`refuses ${JSON.stringify(text)} (exponent ${exp})`, () => {
      const r = parseMoney(text, exp);
      expect(r.ok).toBe(false);
    });
  bad('12.345', 2);
  bad('12.5', 0);
  bad('abc', 2);
  bad('-1', 2);
  bad('1.2.3', 2);
  bad('12,5', 2);
  bad('1,23', 2);
  bad('.', 2);
  bad('10000000000000.01', 2);
  bad('1e3', 2);

  it('round-trips every amount through formatMinor', () => {
    for (const exp of [0, 2, 3]) {
      for (let m = 0; m < 20000; m += 7) {
        expect(parseMoney(formatMinor(m, exp), exp)).toEqual({ok: true, value: m});
      }
    }
  });
});

describe('formatMinor', () => {
  it('writes minor units with the exponent’s decimals', () => {
    expect(formatMinor(1230, 2)).toBe('12.30');
    expect(formatMinor(5, 2)).toBe('0.05');
    expect(formatMinor(0, 2)).toBe('0.00');
    expect(formatMinor(1200, 0)).toBe('1200');
    expect(formatMinor(1234, 3)).toBe('1.234');
    expect(formatMinor(-250, 2)).toBe('-2.50');
    expect(formatMinor(123456789012345, 2)).toBe('1234567890123.45');
  });
});

describe('currencies', () => {
  it('knows the exponents of ISO 4217', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('jpy')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
  });
  it('formats for reading, exactly', () => {
    expect(formatMoney(1230, 'USD', 'en-US')).toBe('$12.30');
    expect(formatMoney(115, 'USD', 'en-US')).toBe('$1.15');
    expect(formatMoney(123456789012345, 'USD', 'en-US')).toBe('$1,234,567,890,123.45');
    expect(formatMoney(1200, 'JPY', 'en-US')).toBe('¥1,200');
    expect(formatEngineAmount(500, 'USD')).toBe('5.00 USD');
  });
});

describe('parsePercent', () => {
  it('reads percentages with at most two decimals', () => {
    expect(parsePercent('15')).toEqual({ok: true, value: 15});
    expect(parsePercent('12.5')).toEqual({ok: true, value: 12.5});
    expect(parsePercent('12.50')).toEqual({ok: true, value: 12.5});
    expect(parsePercent('0.01')).toEqual({ok: true, value: 0.01});
    expect(parsePercent('100')).toEqual({ok: true, value: 100});
    expect(parsePercent('15 %')).toEqual({ok: true, value: 15});
    expect(parsePercent('')).toEqual({ok: true, value: null});
  });
  it('refuses what the server refuses', () => {
    for (const t of ['12.345', '0', '0.00', '100.01', '101', 'ten', '-5', '1e1']) {
      expect(parsePercent(t).ok, t).toBe(false);
    }
  });
  it('sends exactly the digits typed: every percentage of two decimals survives JSON', () => {
    for (let bp = 1; bp <= 10000; bp++) {
      const text = `${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, '0')}`;
      const r = parsePercent(text);
      expect(r.ok).toBe(true);
      const canonical = text.replace(/\.?0+$/, '');
      expect(JSON.stringify(r.ok && r.value)).toBe(canonical);
    }
  });
});

describe('parseCount', () => {
  it('reads whole numbers within bounds', () => {
    expect(parseCount('3')).toEqual({ok: true, value: 3});
    expect(parseCount('1,000')).toEqual({ok: true, value: 1000});
    expect(parseCount('')).toEqual({ok: true, value: null});
    expect(parseCount('0')).toEqual({ok: true, value: 0});
    expect(parseCount('2.5').ok).toBe(false);
    expect(parseCount('5', {min: 10}).ok).toBe(false);
    expect(parseCount('50', {max: 10}).ok).toBe(false);
  });
});
