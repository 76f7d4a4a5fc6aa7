/**
 * Memo tables keyed by an object (an `Expr`): a value is kept while its key lives, as in a
 * `WeakMap`, except inside `usedOnce(fn)`, where every table starts empty and is dropped when `fn`
 * returns. A fuzz case's expression is checked once, and by then it is old to V8 (cases are
 * generated in batches and wait to be judged): a `WeakMap` entry under an old key outlives V8's
 * young-generation collections, so every value memoised for the case was moved into the old
 * generation, there to die at the next full collection. Inside `usedOnce` the case's values die
 * young with the scope's tables.
 */

/** The tables of the innermost `usedOnce`, by memo; null outside one. */
let scope: Map<ExprMemo<object, unknown>, Map<object, unknown>> | null = null;

/**
 * Runs `fn` with fresh memo tables, dropped when it returns: for work on objects used once. What
 * `fn` memoises is still shared within `fn`.
 * @example usedOnce(() => check(fuzzCase.expr, { at: fuzzCase.at }))
 */
export function usedOnce<T>(fn: () => T): T {
  const outer = scope;
  scope = new Map();
  try {
    return fn();
  } finally {
    scope = outer;
  }
}

/**
 * A memo table keyed by objects: a `WeakMap` outside `usedOnce`, a table of the scope inside.
 * @example const flats = new ExprMemo<Expr, FlatExpr>(); flats.get(e) ?? flats.set(e, walk(e))
 */
export class ExprMemo<K extends object, V> {
  private readonly kept = new WeakMap<K, V>();

  private table(): WeakMap<K, V> | Map<K, V> {
    if (scope === null) return this.kept;
    let t = scope.get(this);
    if (t === undefined) scope.set(this, (t = new Map()));
    return t as Map<K, V>;
  }

  get(key: K): V | undefined {
    return this.table().get(key);
  }

  /** Sets `key`'s value and returns it. */
  set(key: K, value: V): V {
    this.table().set(key, value);
    return value;
  }
}
