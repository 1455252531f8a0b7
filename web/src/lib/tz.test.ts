import {describe, expect, it} from 'vitest';

import {instantToLocal, localToInstant} from './tz';

describe('shop timezone', () => {
  it('reads wall-clock times in the shop’s zone', () => {
    expect(localToInstant('2026-06-01T09:00', 'Europe/Paris')).toBe('2026-06-01T07:00:00Z');
    expect(localToInstant('2026-01-15T09:00', 'Europe/Paris')).toBe('2026-01-15T08:00:00Z');
    expect(localToInstant('2026-01-15T09:00', 'UTC')).toBe('2026-01-15T09:00:00Z');
    expect(localToInstant('2026-01-15T09:00', 'America/New_York')).toBe('2026-01-15T14:00:00Z');
    expect(localToInstant('2026-01-15T09:00:30', 'Asia/Kolkata')).toBe('2026-01-15T03:30:30Z');
    expect(localToInstant('', 'UTC')).toBeNull();
    expect(() => localToInstant('soon', 'UTC')).toThrow();
  });
  it('handles daylight-saving changes', () => {
    // Paris springs forward at 02:00 on 2026-03-29: 02:30 does not exist; read before the jump.
    expect(localToInstant('2026-03-29T02:30', 'Europe/Paris')).toBe('2026-03-29T01:30:00Z');
    // And falls back at 03:00 on 2026-10-25: 02:30 happens twice; the first is taken.
    expect(localToInstant('2026-10-25T02:30', 'Europe/Paris')).toBe('2026-10-25T00:30:00Z');
  });
  it('writes instants back as wall-clock times', () => {
    expect(instantToLocal('2026-06-01T07:00:00Z', 'Europe/Paris')).toBe('2026-06-01T09:00');
    expect(instantToLocal('2026-11-23T12:00:01Z', 'UTC')).toBe('2026-11-23T12:00:01');
    expect(instantToLocal(undefined, 'UTC')).toBe('');
    for (const tz of ['UTC', 'Europe/London', 'America/Los_Angeles', 'Australia/Adelaide', 'Asia/Tokyo']) {
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 7 * 3600_000 + 13 * 60_000) {
        const iso = new Date(t).toISOString().replace('.000Z', 'Z');
        expect(localToInstant(instantToLocal(iso, tz), tz), `${iso} in ${tz}`).toBe(iso);
      }
    }
  });
});
