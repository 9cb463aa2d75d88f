/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The page is served by the breakwatch binary itself. In development, Vite serves the page and
// forwards /api to a running breakwatch (BREAKWATCH_URL, default http://127.0.0.1:8000).
const target = process.env.BREAKWATCH_URL ?? 'http://127.0.0.1:8000';

// The policy breakwatch serves the page with; `npm run preview` serves the built page under it
// too, so that anything inline the policy would block shows up before it reaches the binary.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'";

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2020',
    sourcemap: false,
    // Every browser the page supports has modulepreload; the polyfill would only add bytes.
    modulePreload: { polyfill: false },
    // No data: URIs for assets; every file is a hashed file under assets/.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: { '/api': { target } },
  },
  preview: {
    headers: { 'Content-Security-Policy': CSP },
    proxy: { '/api': { target } },
  },
  test: {
    // Logic tests run in Node; component tests ask for jsdom with a @vitest-environment comment.
    environment: 'node',
    globals: true,
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
