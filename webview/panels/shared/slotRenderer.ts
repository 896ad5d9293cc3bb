/**
 * Replaces a slot's content only when what it shows changed (its key): most of a report is
 * the same from one refresh to the next, and rebuilding DOM (and web components) is not free.
 */
export class SlotRenderer {
  private readonly drawn = new WeakMap<Element, string>();

  fill(slot: Element, key: unknown, build: () => Node[]): void {
    const k = JSON.stringify(key) ?? '';
    if (this.drawn.get(slot) === k) return;
    this.drawn.set(slot, k);
    slot.replaceChildren(...build());
  }
}
