import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    // Deterministic output: no timestamps, hashed names from content.
    sourcemap: false,
  },
  test: {
    coverage: {
      provider: 'v8',
      include: ['src/**/*.js'],
      // main.js is the DOM glue the browser runs; the rest is tested here.
      exclude: ['src/main.js', 'src/**/*.test.js'],
      // json-summary is what paved reads (coverage/coverage-summary.json).
      reporter: ['text', 'json-summary'],
    },
  },
});
