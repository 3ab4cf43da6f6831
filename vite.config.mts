import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const __dirname = dirname(fileURLToPath(import.meta.url));

/** The viewer (web/index.html) and the host console (web/host/index.html), built to web/dist. */
export default defineConfig({
  root: resolve(__dirname, 'web'),
  base: './',
  build: {
    outDir: resolve(__dirname, 'web/dist'),
    emptyOutDir: true,
    rollupOptions: {
      input: {
        viewer: resolve(__dirname, 'web/index.html'),
        host: resolve(__dirname, 'web/host/index.html'),
      },
    },
  },
});
