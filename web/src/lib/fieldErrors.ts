// Field errors arrive with JSON paths ("value.tiers[2].threshold", "behaviour.used_codes[1]",
// "stacking") from the server's 422 answers (app/errors.go, discountfn/validate.go) and from the
// form's own parsing. Each is shown at the field that owns the path: the field whose path is
// the longest prefix of it. An entry of a list field ("...used_codes[1]") is shown at the list
// with its position; a problem no field owns is listed at the top of the page.

import type {FieldError} from './types';

export interface PlacedErrors {
  /** The messages of each field, by the field's path. */
  byField: Record<string, string[]>;
  /** Problems no field of the page owns. */
  unplaced: FieldError[];
}

/** owns reports whether a field at fieldPath owns the problem at path. */
export function owns(fieldPath: string, path: string): boolean {
  if (fieldPath === path) return true;
  if (fieldPath === '') return false;
  return path.startsWith(fieldPath + '.') || path.startsWith(fieldPath + '[');
}

/** describe is the message shown at the field: with the entry's position for a list entry. */
export function describe(fieldPath: string, problem: FieldError): string {
  const rest = problem.path.slice(fieldPath.length);
  const m = /^\[(\d+)\](.*)$/.exec(rest);
  const message = sentence(problem.message);
  if (m) {
    const where = m[2] ? `${m[2].replace(/^\./, '')} of entry` : 'Entry';
    return `${where} ${Number(m[1]) + 1}: ${message}`;
  }
  if (rest.startsWith('.')) {
    return `${rest.slice(1).replace(/_/g, ' ')}: ${message}`;
  }
  return message;
}

/** placeErrors assigns each problem to the field that owns it (the longest matching path). */
export function placeErrors(problems: readonly FieldError[], fields: Iterable<string>): PlacedErrors {
  const known = [...new Set(fields)].sort((a, b) => b.length - a.length);
  const byField: Record<string, string[]> = {};
  const unplaced: FieldError[] = [];
  for (const p of problems) {
    const field = known.find((f) => owns(f, p.path));
    if (field === undefined) {
      unplaced.push(p);
      continue;
    }
    (byField[field] ??= []).push(describe(field, p));
  }
  return {byField, unplaced};
}

/** sentence starts a message with a capital: "is required" → "Is required". */
export function sentence(message: string): string {
  return message ? message.charAt(0).toUpperCase() + message.slice(1) : message;
}

/** humanPath names a JSON path for a list of problems nobody owns: "value.tiers[0].amount" → "value › tier 1 › amount". */
export function humanPath(path: string): string {
  if (!path) return 'Offer';
  return path
    .replace(/\[(\d+)\]/g, (_, n) => ` ${Number(n) + 1}`)
    .split('.')
    .map((s) => s.replace(/_/g, ' '))
    .join(' › ');
}
