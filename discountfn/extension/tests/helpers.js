import { readFileSync } from "node:fs";

/** A fresh copy of a JSON fixture of tests/fixtures. */
export function fixture(name) {
  return JSON.parse(readFileSync(new URL("./fixtures/" + name, import.meta.url), "utf8"));
}
