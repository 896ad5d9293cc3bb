/**
 * A map that remembers about the newest `perGeneration`–`2 × perGeneration` keys: two
 * generations, and when the current one fills up it becomes the older one and the old older
 * one is dropped whole — O(1) eviction, where deleting a Map's first key one at a time
 * degrades in V8. Reading a key from the older generation does not move it.
 */
export class GenerationalMap<K, V> {
  private current = new Map<K, V>();
  private older = new Map<K, V>();

  constructor(private readonly perGeneration: number) {
    if (!(perGeneration >= 1)) throw new RangeError(`perGeneration must be at least 1, got ${perGeneration}`);
  }

  get(key: K): V | undefined {
    const v = this.current.get(key);
    return v !== undefined ? v : this.older.get(key);
  }

  set(key: K, value: V): void {
    this.current.set(key, value);
    if (this.current.size >= this.perGeneration) {
      this.older = this.current;
      this.current = new Map();
    }
  }

  /** Keys held now (a key in both generations counts twice; the newer value wins on reads). */
  get size(): number {
    return this.current.size + this.older.size;
  }
}
