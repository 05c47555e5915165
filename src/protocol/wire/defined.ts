/** Keys of `T` whose type admits `undefined`. */
type MaybeUndefinedKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];

/**
 * `T` with every key that may be undefined made optional (and `undefined` removed from its type), so that the
 * result fits interfaces declared under `exactOptionalPropertyTypes`, where `{ x?: number }` refuses
 * `{ x: undefined }`.
 */
export type DefinedOnly<T> = {
  [K in Exclude<keyof T, MaybeUndefinedKeys<T>>]: T[K];
} & {
  [K in MaybeUndefinedKeys<T>]?: Exclude<T[K], undefined>;
};

/**
 * A shallow copy of `object` without the keys whose value is `undefined`: one call instead of a spread of
 * `...(x !== undefined ? { x } : {})` per optional field. `null`, `false`, `0` and `''` are kept.
 */
export function definedOnly<const T extends object>(object: T): DefinedOnly<T> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as DefinedOnly<T>;
}
