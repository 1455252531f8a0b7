// Lists typed in one text field: ids, codes, tags, cities. One entry per line or separated by
// commas; a bare number in an id list becomes the platform id of the expected kind.

export type GidKind = 'Product' | 'Collection' | 'Customer';

/** splitList reads entries separated by new lines or commas, trimmed, empty ones dropped. */
export function splitList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** splitLines reads one entry per line (for entries that may hold commas, such as gateway names). */
export function splitLines(text: string): string[] {
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** splitIds reads a list of platform ids, turning "123" into gid://shopify/{kind}/123. */
export function splitIds(text: string, kind: GidKind): string[] {
  return splitList(text).map((s) => (/^[1-9]\d{0,18}$/.test(s) ? `gid://shopify/${kind}/${s}` : s));
}

/** joinList writes a list for its text field, one entry per line. */
export function joinList(list: readonly string[] | undefined | null): string {
  return (list ?? []).join('\n');
}

/** optionalList is the list, or undefined when empty (so it is left out of the JSON). */
export function optionalList<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}

/** gidNumber is the number at the end of a platform id, for short display. */
export function gidNumber(gid: string): string {
  const m = /\/(\d+)$/.exec(gid);
  return m ? m[1] : gid;
}
