// The JSON form of Grafana's `Dashboard` type (@grafana/schema), for type-checking dashboard JSON files.
//
// A dashboard file holds an enum member as its value: "absolute", not ThresholdsMode.Absolute. TypeScript's
// string enums are nominal, so a string literal is never assignable to one; JsonOf<T> replaces each string
// enum by the union of its values (`${E}`) and leaves every other type as it is. Object types are mapped
// homomorphically, so optional and required keys stay as declared and excess-property checks still apply.
// Numeric enums stay: a number literal that is a member's value is assignable to them.
import type { Dashboard } from "@grafana/schema";

export type JsonOf<T> =
  T extends string ? `${T}` :
  T extends number | boolean | null | undefined ? T :
  T extends ReadonlyArray<infer U> ? Array<JsonOf<U>> :
  T extends object ? { [K in keyof T]: JsonOf<T[K]> } :
  T;

export type DashboardJson = JsonOf<Dashboard>;
