import { gzipSync } from "node:zlib";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/** A `.gz` beside every text file, so the shop serves compressed files without compressing. */
function precompress(): Plugin {
  return {
    name: "precompress",
    enforce: "post",
    apply: "build",
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (!/\.(js|css|html|svg)$/.test(file.fileName)) continue;
        const source = file.type === "chunk" ? file.code : file.source;
        this.emitFile({ type: "asset", fileName: `${file.fileName}.gz`, source: gzipSync(source, { level: 9 }) });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    rollupOptions: { input: { storefront: "index.html", admin: "admin/index.html" } },
  },
  // `npm run dev` next to `cargo run`: operations go to the shop's router.
  server: { proxy: { "/graphql": "http://127.0.0.1:4000" } },
});
