/**
 * A value computed once per object and kept on the object itself, under a private symbol, as a
 * non-enumerable property (so spreads, `JSON.stringify` and `structuredClone` never carry it).
 *
 * Used for caches keyed by per-request objects (facts, medication and condition facts). A `WeakMap`
 * would do the same, but every young key of a long-lived `WeakMap` is an ephemeron the scavenger has
 * to process, which made each minor GC cost milliseconds at a few hundred evaluations per second.
 */
export function memoOn<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const slot = Symbol('memo');
  return (key) => {
    const held = (key as Record<symbol, V | undefined>)[slot];
    if (held !== undefined) return held;
    const value = compute(key);
    Object.defineProperty(key, slot, { value, enumerable: false, writable: false, configurable: false });
    return value;
  };
}
