/** A count as people read it: 1,234,567. Its own module so commands that print counts need not load the plan renderer. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}
