// Schedules are absolute instants on the server; the admin shows and takes them as wall-clock
// times in the shop's timezone (store.ShopSettings.timezone), whatever the browser's zone.

const formats = new Map<string, Intl.DateTimeFormat>();

function partsIn(instant: number, timeZone: string) {
  let fmt = formats.get(timeZone);
  fmt ??= new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  formats.set(timeZone, fmt);
  const out: Record<string, number> = {};
  for (const p of fmt.formatToParts(new Date(instant))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return out as {year: number; month: number; day: number; hour: number; minute: number; second: number};
}

/** offsetAt is the zone's offset from UTC at the instant, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const p = partsIn(instant, timeZone);
  const asUTC = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUTC - Math.floor(instant / 1000) * 1000;
}

/**
 * localToInstant reads a wall-clock time "YYYY-MM-DDTHH:mm" in timeZone as an RFC 3339 instant
 * in UTC. A time skipped by a daylight-saving jump is read with the offset before the jump; a
 * repeated time is the first of the two. Empty text is null; a malformed one throws.
 */
export function localToInstant(local: string, timeZone: string): string | null {
  const s = local.trim();
  if (!s) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (!m) throw new Error('Enter a date and time');
  const [y, mo, d, h, mi, se] = m.slice(1).map((x) => Number(x ?? 0));
  const wall = Date.UTC(y, mo - 1, d, h, mi, se || 0);
  // The offsets in force around the wall time: before and after any transition near it.
  const before = offsetAt(wall - 14 * 3600_000, timeZone);
  const after = offsetAt(wall + 14 * 3600_000, timeZone);
  const valid = [wall - before, wall - after].filter((c) => c + offsetAt(c, timeZone) === wall);
  // Repeated (or ordinary): the earliest match. Skipped: the offset before the jump.
  const instant = valid.length ? Math.min(...valid) : wall - before;
  return new Date(instant).toISOString().replace('.000Z', 'Z');
}

/**
 * instantToLocal writes an RFC 3339 instant as "YYYY-MM-DDTHH:mm" in timeZone ("…:ss" when it
 * has seconds, so saving again keeps the instant); "" for none.
 */
export function instantToLocal(instant: string | undefined | null, timeZone: string): string {
  if (!instant) return '';
  const t = Date.parse(instant);
  if (Number.isNaN(t)) return '';
  const p = partsIn(t, timeZone);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const secs = p.second ? `:${pad(p.second)}` : '';
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}${secs}`;
}

/** isTimeZone reports whether the browser knows the IANA zone. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', {timeZone: tz});
    return true;
  } catch {
    return false;
  }
}

/** formatDateTime shows an instant in the shop's zone for reading. */
export function formatDateTime(instant: string, timeZone: string): string {
  const t = Date.parse(instant);
  if (Number.isNaN(t)) return instant;
  try {
    return new Intl.DateTimeFormat('en-US', {dateStyle: 'medium', timeStyle: 'short', timeZone}).format(new Date(t));
  } catch {
    return new Date(t).toISOString();
  }
}
