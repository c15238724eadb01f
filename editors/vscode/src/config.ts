// The extension's own logic, apart from VS Code so that it can be tested
// without it: how the server is started and what it is told.

/** The settings the extension reads (`weft.*`). */
export interface Settings {
  serverPath?: string;
  extraArgs?: readonly string[];
  asOf?: string;
}

/** How to start the language server: `weft lsp` by default. */
export function serverCommand(s: Settings): { command: string; args: string[] } {
  const command = (s.serverPath ?? "").trim() || "weft";
  const extra = (s.extraArgs ?? []).filter((a) => typeof a === "string");
  return { command, args: [...extra, "lsp"] };
}

/**
 * A date the server accepts (`YYYY-MM-DD`; `YYYY-MM` is its first day),
 * or undefined for an empty or malformed setting (the server then uses
 * today).
 */
export function normaliseAsOf(value: string | undefined): string | undefined {
  const v = (value ?? "").trim();
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(v);
  if (!m) {
    return undefined;
  }
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3] ?? "1")];
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    return undefined;
  }
  return `${m[1]}-${m[2]}-${String(day).padStart(2, "0")}`;
}

/** The initialisation options sent to the server. */
export function initializationOptions(s: Settings): { asOf?: string } {
  const asOf = normaliseAsOf(s.asOf);
  return asOf === undefined ? {} : { asOf };
}

/** The files whose changes the server hears about (parameter files too). */
export const WATCHED_FILES = "**/*.{weft,toml,csv}";
