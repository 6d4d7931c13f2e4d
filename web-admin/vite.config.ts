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
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      output: {
        // Each page is a chunk of its own (React.lazy in App.tsx). Libraries go in named chunks
        // that keep their hash while our code changes; the chart library loads only with the
        // overview and the rich-text editor only with the compose window. Higher priority first:
        // a group also takes the dependencies of what it matches.
        codeSplitting: {
          groups: [
            { name: "editor", test: /node_modules[\\/](@mantine[\\/]tiptap|@tiptap|prosemirror-[a-z-]+|linkifyjs|orderedmap|rope-sequence|w3c-keyname|markdown-it|fast-equals|use-sync-external-store)[\\/]/, priority: 0 },
            { name: "react", test: /node_modules[\\/](react|react-dom|scheduler|react-router|cookie)[\\/]/, priority: 4 },
            { name: "graphql", test: /node_modules[\\/](urql|@urql|@0no-co|wonka|graphql-ws|graphql)[\\/]/, priority: 3 },
            { name: "mantine", test: /node_modules[\\/]@mantine[\\/](?!tiptap)/, priority: 2 },
            { name: "charts", test: /node_modules[\\/]recharts[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
});
