// The hash of everything dist/ is built from. `--write` records it in dist/SOURCE_HASH after a
// build; the shop's `site` crate recomputes it in a test, which fails while dist/ is stale.
// The same walk lives in web/site/src/lib.rs (`source_hash`): keep the two alike.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const web = fileURLToPath(new URL("..", import.meta.url));
const repo = join(web, "..");
export const SOURCES = [
  "web/shared", "web/storefront", "web/admin", "web/index.html", "web/package.json",
  "web/package-lock.json", "web/vite.config.ts", "web/codegen.ts", "web/tsconfig.json",
  "frontend-queries/persisted-operations.json",
];

function files(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path).flatMap((name) => files(join(path, name)));
  }
  return [path];
}

export function sourceHash() {
  const hash = createHash("sha256");
  const all = SOURCES.flatMap((source) => files(join(repo, source)))
    .map((path) => relative(repo, path).split("\\").join("/"))
    .sort();
  for (const path of all) {
    hash.update(path);
    hash.update("\0");
    hash.update(readFileSync(join(repo, path)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

if (process.argv.includes("--write")) {
  writeFileSync(join(web, "dist", "SOURCE_HASH"), sourceHash() + "\n");
} else {
  console.log(sourceHash());
}
