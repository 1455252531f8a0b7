import react from '@vitejs/plugin-react';
import type {Plugin} from 'vite';
import {defineConfig} from 'vitest/config';

const devApp = process.env.REGULARS_DEV_APP ?? 'http://127.0.0.1:8080';
const devPlatform = process.env.REGULARS_DEV_PLATFORM ?? 'http://127.0.0.1:8081';
const devShop = process.env.REGULARS_DEV_SHOP ?? 'regulars-demo.myshopify.com';

/** devShell fills the App Bridge placeholder for `npm run dev`, as the Go app does in production. */
function devShell(): Plugin {
  return {
    name: 'regulars-dev-shell',
    apply: 'serve',
    transformIndexHtml: (html) =>
      html.replace(
        '<!--regulars:app-bridge-->',
        `<meta name="regulars-shop" content="${devShop}" />\n    <meta name="regulars-currency" content="USD" />`,
      ),
  };
}

// The admin UI is served by the Go app under /app (app/adminpage.go), from dist/ embedded in
// the binary. The build must be deterministic: web/scripts/check-dist rebuilds it and compares the
// result with the committed dist/ byte for byte (content-hashed names, no source maps, no
// timestamps).
export default defineConfig({
  base: '/app/',
  plugins: [react(), devShell()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` serves the UI with hot reload at http://localhost:5173/app/, next to
    // `make run`: API calls go to the app, and ID tokens come from the platform stand-in.
    proxy: {'/api': devApp, '/shops': devPlatform},
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
  },
});
