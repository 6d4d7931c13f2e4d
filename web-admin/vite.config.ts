import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Served by `sendtrail serve` at `/` on the same origin as /graphql (platform/web/admin_ui.py).
// `npm run dev` proxies the API to a local `sendtrail serve` (make run) on port 8000.
const api = "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/graphql": { target: api, ws: true },
      "/auth": { target: api },
    },
  },
  build: {
    // Hashed file names under assets/ are served as immutable; index.html is never cached.
    assetsDir: "assets",
    sourcemap: false,
    // One bundle (~155 kB gzipped: React, Mantine, urql) suits an admin behind a sign-in.
    chunkSizeWarningLimit: 700,
  },
});
