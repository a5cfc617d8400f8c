/**
 * The operator console's build: Preact, bundled with its styles and charts into console/dist,
 * served by the gateway at /console. Nothing is fetched from elsewhere at run time.
 */
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [preact()],
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
});
