/// <reference types="node" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API the dev server forwards to (`atelier api` or `scripts/dev`).
const api = process.env.ATELIER_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/app/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    assetsInlineLimit: 2048,
  },
  server: {
    port: 5173,
    proxy: {
      "/api": { target: api, changeOrigin: false },
      "/files": { target: api, changeOrigin: false },
    },
  },
});
