/** `rows[3].country` from a zod path. Its own module, so the CLI can name fields without loading the runtime's database driver. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), "");
}
