/** Prints a flat table of a benchmark's (possibly nested) figures. */
export function printTable(result: Record<string, unknown>): void {
  const rows: [string, string][] = [];
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(obj)) {
      const name = prefix ? `${prefix}.${key}` : key;
      if (value && typeof value === 'object' && !Array.isArray(value)) walk(value as Record<string, unknown>, name);
      else rows.push([name, format(value)]);
    }
  };
  walk(result, '');
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

function format(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    return value.toLocaleString('en-US', { maximumFractionDigits: 3 });
  }
  return String(value);
}
