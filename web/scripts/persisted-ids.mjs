// The persisted-operation ids of the apps' operations, by operation name, from the manifest
// (`cargo run -p router -- manifest` writes it): production builds send these instead of text.
import { readFileSync, writeFileSync } from "node:fs";

const manifest = JSON.parse(readFileSync(new URL("../../frontend-queries/persisted-operations.json", import.meta.url)));
const ids = {};
for (const operation of manifest.operations) {
  if (operation.partner) continue;
  if (ids[operation.name]) throw new Error(`two operations are named ${operation.name}`);
  ids[operation.name] = operation.id;
}
const sorted = Object.fromEntries(Object.entries(ids).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(
  new URL("../shared/generated/persisted-ids.ts", import.meta.url),
  `// Written by scripts/persisted-ids.mjs from frontend-queries/persisted-operations.json.\nexport const persistedIds: Record<string, string> = ${JSON.stringify(sorted, null, 2)};\n`,
);
