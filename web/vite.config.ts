import react from '@vitejs/plugin-react';
import {defineConfig} from 'vitest/config';

// The admin UI is served by the Go app under /app (app/adminpage.go), from dist/ embedded in
// the binary. The build must be deterministic: scripts/check-web rebuilds it and compares the
// result with the committed dist/ byte for byte (content-hashed names, no source maps, no
// timestamps).
export default defineConfig({
  base: '/app/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` serves the UI with hot reload; API calls go to the Go app.
    proxy: {'/api': 'http://127.0.0.1:8080'},
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
  },
});
