/** `performance.mark("atelier:interactive")` once, when the first screen shows its data. */

let marked = false;

export function markInteractive(): void {
  if (marked) return;
  marked = true;
  performance.mark("atelier:interactive");
}
